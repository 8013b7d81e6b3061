import { randomBytes } from 'node:crypto';
import { closeAll, meshTrio } from '../parties/testing/trio.js';
for (const tls of [true, false]) for (const win of [256 * 1024, 4 << 20]) for (const chunk of [1 << 20, 4 << 20]) {
  const ms = await meshTrio({ tls, extra: { flowControlWindow: win, chunkBytes: chunk } });
  const size = 32 << 20;
  const a = randomBytes(size);
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    const id = `b${r}`;
    const [t0, t1] = [ms[0].openSession(id), ms[1].openSession(id)];
    const s = performance.now();
    t1.send(0, 'bulk', a);
    await t0.recv(1, 'bulk');
    best = Math.min(best, performance.now() - s);
    t0.close(); t1.close();
  }
  console.log(`tls=${tls} window=${win >> 10}K chunk=${chunk >> 20}M: 32 MiB one way in ${best.toFixed(0)} ms = ${(32 / best * 1000).toFixed(0)} MiB/s (one process, sender+receiver on one thread)`);
  await closeAll(ms);
}
