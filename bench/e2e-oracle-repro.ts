/**
 * A model of bench/e2e-oracle.ts (its --seed, the model index, --depth, --rare) served in process-launched parties
 * (parties/launch.ts, the IR given directly at --frac-bits) in the security modes asked for, on N seeded inputs,
 * against the float64 plaintext and model-import's fixed-point simulation (fixed-sim.ts) at the same f: tells a
 * protocol fault (secure off the simulation) from the encoding's own error (secure = simulation, both off the
 * float plaintext). Prints the items where secure and plaintext differ by more than --show (3e-3).
 *
 *   nice -n 10 npx tsx bench/e2e-oracle-repro.ts --seed 201 --model 1 --depth 4 --rare 0.1 --frac-bits 12
 *       [--n 8 (<= 8: the malicious batch limit)] [--input-seed 3] [--unit (inputs x/255, else raw 0..255)]
 *       [--modes malicious,semi-honest]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { fixedLogits } from '../model-import/fixed-sim.js';
import { loadModel } from '../model-import/load.js';
import { randomModel } from '../model-import/testing/keras-oracle-gen.js';
import { saveTfjsLayers } from '../model-import/testing/tfjs-save.js';
import { launchLocal } from '../parties/launch.js';
import { Prg } from '../protocol/correlated/prg.js';
import { plainForward } from '../protocol/reference/forward.js';

tf.env().set('PROD', true);
const arg = (name: string, dflt: string): string => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1]! : dflt; };
const seed = Number(arg('seed', '1')), m = Number(arg('model', '0')), depth = Number(arg('depth', '3')), rare = Number(arg('rare', '0.1'));
const F = Number(arg('frac-bits', '12')), N = Number(arg('n', '8')), show = Number(arg('show', '3e-3'));
const modes = arg('modes', 'malicious,semi-honest').split(',') as ('malicious' | 'semi-honest')[];

// The probe's model m: the same PRG (seed, m + 1) and generator.
const s = new Uint8Array(16);
const v = new DataView(s.buffer);
v.setUint32(0, seed);
v.setUint32(4, m + 1);
const gen = randomModel(new Prg(s), depth, rare);
const dir = mkdtempSync(path.join(tmpdir(), 'e2e-repro-'));
try {
  const ir = (await loadModel(await saveTfjsLayers(gen.model, dir))).ir;
  const n = ir.inputShape.reduce((a, b) => a * b, 1);
  const bytes = new Prg(new Uint8Array(16).fill(Number(arg('input-seed', '3')))).bytes(N * n);
  const x = Float32Array.from(bytes, (b) => (process.argv.includes('--unit') ? b / 255 : b));
  const plain = plainForward(ir, Float64Array.from(x), N).data;
  const sim = fixedLogits(ir, x, N, { fracBits: F });
  const k = plain.length / N;
  const row = (a: ArrayLike<number>, b: number): string => Array.from({ length: k }, (_, j) => a[b * k + j]!.toFixed(4)).join(' ');
  console.log(`seed ${seed} model ${m}: ${ir.nodes.map((nd) => nd.kind).join(' > ')}; f = ${F}, ${N} inputs`);
  for (const sec of modes) {
    const l = await launchLocal({ plain: ir, fracBits: F, security: sec, logLevel: 'warn', warmup: { runs: 0 }, readyTimeoutMs: 120_000 });
    try {
      const c = new PrivateInferenceClient({ parties: l.urls, token: l.token });
      const r = (await c.predict({ data: x, shape: [N, ...ir.inputShape] }, { batch: true })) as { logits: number[][] };
      let worstSim = 0;
      for (let b = 0; b < N; b++) {
        const got = r.logits[b]!;
        worstSim = Math.max(worstSim, ...got.map((y, j) => Math.abs(y - sim[b * k + j]!)));
        if (Math.max(...got.map((y, j) => Math.abs(y - plain[b * k + j]!))) > show) console.log(`${sec} item ${b}: secure ${got.map((y) => y.toFixed(4)).join(' ')} | fixed-sim ${row(sim, b)} | float ${row(plain, b)}`);
      }
      console.log(`${sec}: max |secure - fixed-sim| ${worstSim.toExponential(2)}`);
    } finally {
      await l.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
