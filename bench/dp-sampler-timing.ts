/**
 * Running time of one exact discrete Laplace / discrete Gaussian draw
 * (protocol/privacy/discrete-samplers.ts) by the size of the sample, in units
 * of the scale: the loops of CKS 2020 Alg. 2 step 2 (one Bernoulli(e^-1) per
 * unit of |n| / t) and Alg. 3 step 3 make the time grow with |n|.
 *
 *   npx tsx bench/dp-sampler-timing.ts [--draws N] [--scale T]
 *
 * Prints the median and mean ns per draw for |n| / scale in [0,1), [1,2),
 * [2,4), [4,6), [6,inf). Results: protocol/privacy/README.md, "Timing".
 */
import { performance } from 'node:perf_hooks';
import { Rng, cryptoSource } from '../protocol/privacy/random-source.js';
import { sampleDiscreteGaussian, sampleDiscreteLaplace } from '../protocol/privacy/discrete-samplers.js';

const arg = (k: string, d: number): number => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const draws = arg('--draws', 200_000);
const scale = BigInt(arg('--scale', 2 ** 14));
const edges = [0, 1, 2, 4, 6, Infinity];
const rng = new Rng(cryptoSource);

function run(name: string, draw: () => bigint, unit: number): void {
  const ns: number[][] = edges.slice(1).map(() => []);
  for (let i = 0; i < 2_000; i++) draw(); // warm-up
  for (let i = 0; i < draws; i++) {
    const t0 = performance.now();
    const n = draw();
    const dt = (performance.now() - t0) * 1e6;
    const r = Math.abs(Number(n)) / unit;
    ns[edges.findIndex((e, j) => r >= e && r < edges[j + 1]!)]!.push(dt);
  }
  console.log(`${name} (scale ${unit}, ${draws} draws)`);
  ns.forEach((v, j) => {
    if (v.length === 0) return;
    v.sort((a, b) => a - b);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    console.log(`  |n|/scale in [${edges[j]}, ${edges[j + 1]}): ${String(v.length).padStart(7)} draws, median ${v[v.length >> 1]!.toFixed(0)} ns, mean ${mean.toFixed(0)} ns`);
  });
}

run('discrete Laplace', () => sampleDiscreteLaplace(rng, scale), Number(scale));
run('discrete Gaussian', () => sampleDiscreteGaussian(rng, scale * scale), Number(scale));
