/**
 * The largest message a seed CNN run sends from the send pool (protocol/ring/send-pool.ts, via
 * Transport.sendWithRelease) and the largest of all its messages, in one process on in-memory transports. A pooled
 * message larger than the h2 link's frame size (PARTY_MESH_CHUNK, default 64 MiB: parties/chunking.ts CHUNK_BYTES)
 * travels in several frames, whose release must wait for the last frame's write (parties/send-release-chunks.test.ts).
 *
 *   npx tsx bench/max-pooled-message.ts [batch = 8] [compareBits = 32|64]
 */
import { dealSeeds } from '../protocol/correlated/prg.js';
import { createContext, type ContextOptions } from '../protocol/context.js';
import { getKernels } from '../protocol/kernels/index.js';
import { shareFor3 } from '../protocol/testing/run3.js';
import { memoryTransports } from '../protocol/transport/memory.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { seedCnn } from '../protocol/seed-models.js';
import type { PartyId } from '../protocol/ring/types.js';

async function main(): Promise<void> {
  const N = Number(process.argv[2] ?? 8);
  const bits = Number(process.argv[3] ?? 32);
  if (!(N >= 1 && N <= 64) || (bits !== 32 && bits !== 64)) throw new Error('usage: max-pooled-message.ts [batch 1..64] [32|64]');
  const opts: ContextOptions = bits === 32 ? { fracBits: 13, compareBits: 32, compareRadix: 4 } : { fracBits: 13, compareBits: 64 };
  const k = getKernels();
  const parts = shareModel(k, seedCnn('maxpool2d'), 13);
  const ts = memoryTransports();
  let maxPooled = 0, maxAny = 0;
  for (const t of ts) {
    const send = t.send.bind(t), withRelease = t.sendWithRelease!.bind(t);
    t.send = (to, tag, p) => { maxAny = Math.max(maxAny, p.byteLength); send(to, tag, p); };
    t.sendWithRelease = (to, tag, p, r) => { maxPooled = Math.max(maxPooled, p.byteLength); maxAny = Math.max(maxAny, p.byteLength); withRelease(to, tag, p, r); };
  }
  const as = shareFor3(new BigUint64Array(N * 150 * 125)), seeds = dealSeeds();
  await Promise.all(([0, 1, 2] as PartyId[]).map((p) => secureForward(createContext(p, ts[p]!, seeds[p]!, opts), parts[p]!, { shape: [N, 150, 125, 1], data: as[p]! })));
  console.log(`seed CNN batch ${N}, ${bits}-bit comparisons: largest pooled message ${(maxPooled / 2 ** 20).toFixed(2)} MiB, largest message ${(maxAny / 2 ** 20).toFixed(2)} MiB`);
}

void main();
