/**
 * A lone mesh party P0 in its own process, for parties/mesh-keepalive.test.ts:
 * prints its gRPC port, then on each stdin line "block N" blocks its event
 * loop for N ms (as a long compute step does) and prints "unblocked".
 */
import { createInterface } from 'node:readline';
import { PeerMesh } from '../mesh.js';

const mesh = new PeerMesh({ party: 0, tls: null, listen: { host: '127.0.0.1', port: 0 } });
const { port } = await mesh.start();
process.stdout.write(`port ${port}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = /^block (\d+)$/.exec(line.trim());
  if (!m) return;
  const until = Date.now() + Number(m[1]);
  while (Date.now() < until) { /* a compute step that never yields */ }
  process.stdout.write('unblocked\n');
});
process.stdin.on('end', () => { void mesh.close().then(() => process.exit(0)); });
