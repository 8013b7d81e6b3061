/**
 * CPU of the client's fixed-point encoding of one Network A input (784 values, f = 16), this checkout's
 * protocol/fixed-point/fixed-point.ts against another checkout's, alternating (3 rounds, 20 000 encodes each after
 * 2000 warm-up calls, process.cpuUsage):
 *
 *   npx tsx bench/encode-cpu.ts --base <checkout>
 */
import path from 'node:path';
import { encode } from '../protocol/fixed-point/fixed-point.js';

const i = process.argv.indexOf('--base');
if (i < 0 || !process.argv[i + 1]) { console.error('usage: npx tsx bench/encode-cpu.ts --base <checkout>'); process.exit(2); }
const base = (await import(path.resolve(process.argv[i + 1]!, 'protocol/fixed-point/fixed-point.ts'))) as { encode: typeof encode };
const x = Float64Array.from({ length: 784 }, (_, k) => (k % 97) / 97);
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const a = base.encode(x, 16), b = encode(x, 16);
if (!a.every((v, k) => v === b[k])) throw new Error('the two encodings differ');
for (let r = 0; r < 3; r++) {
  for (const [name, f] of [['base', base.encode], ['this', encode]] as const) {
    for (let k = 0; k < 2000; k++) f(x, 16);
    const c0 = cpuMs();
    for (let k = 0; k < 20_000; k++) f(x, 16);
    console.log(`round ${r + 1}, ${name}: ${(((cpuMs() - c0) / 20_000) * 1000).toFixed(2)} µs of CPU per encode of 784 values`);
  }
}
