/**
 * Load benchmark: N concurrent clients (client SDK over real HTTP on
 * loopback) against three party processes with the mTLS mesh, for a fixed
 * time; every result is checked against the plaintext output of its own input.
 * Writes the "Load" section of BENCHMARKS.md (between its markers).
 *
 *   npx tsx bench/load.ts [--clients 100] [--seconds 30] [--model networkA|cnn] [--no-write]
 *
 * The same harness (test/testing/load.ts) runs in test/load.test.ts for 8 s.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { launchLocal } from '../parties/launch.js';
import { networkA, seedCnn } from '../protocol/seed-models.js';
import { runLoad, type LoadReport } from '../test/testing/load.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => { const i = args.indexOf(name); return i >= 0 && args[i + 1] ? args[i + 1]! : def; };
const clients = Number(opt('--clients', '100'));
const seconds = Number(opt('--seconds', '30'));
const which = opt('--model', 'networkA');
const write = !args.includes('--no-write');

const BEGIN = '<!-- load:begin -->';
const END = '<!-- load:end -->';
const FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

function section(r: LoadReport, modelName: string, batch: string): string {
  const f = (v: number, d = 0) => v.toFixed(d);
  const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    BEGIN,
    `Command: \`npx tsx bench/load.ts --clients ${r.clients} --seconds ${seconds} --model ${which}\` — ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}.`,
    `Three party processes (\`parties/main.ts\`, mTLS gRPC mesh, HTTP API) and the clients in one more process, all on this machine's loopback; model ${modelName}; batching ${batch}. Each client is its own \`PrivateInferenceClient\` and sends predictions back to back, each with a distinct input checked against the plaintext forward pass of that input. The test \`test/load.test.ts\` runs the same load for 8 s and asserts the correctness and memory columns.`,
    '',
    '| clients | time | predictions | throughput | latency p50 | p90 | p99 | max | errors | wrong / crossed | duplicated | lost | party RSS before → peak (MiB) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${r.clients} | ${f(r.durationS, 1)} s | ${r.ok} | ${f(r.throughput, 1)} /s | ${f(r.latencyMs.p50)} ms | ${f(r.latencyMs.p90)} ms | ${f(r.latencyMs.p99)} ms | ${f(r.latencyMs.max)} ms | ${errs} | ${r.wrong} | ${r.duplicates} | ${r.lost} | ${r.rssMiB.map((m, i) => `P${i} ${f(m.before)} → ${f(m.peak)}`).join(', ')} |`,
    '',
    'Latency is the whole `predict()` as a client sees it (each client pins the model, so after its first prediction one request per party: P0 and P1 create the session with its share and answer the output share, P2 creates its session); with 100 clients in flight most of it is queueing for a batch: the parties run at most two batches of 8 at a time on 2 cores shared with the clients.',
    END,
  ].join('\n');
}

async function main(): Promise<void> {
  const plain = which === 'cnn' ? seedCnn('avgpool2d', 1, [96, 96, 1]) : networkA();
  const modelName = which === 'cnn' ? 'seed CNN (AvgPool, 96x96x1, f = 13)' : 'MNIST Network A (784-128-128-10, f = 16)';
  const batch = { windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 };
  const l = await launchLocal({ plain, fracBits: which === 'cnn' ? 13 : 16, logLevel: 'warn', batch, readyTimeoutMs: 120_000 });
  try {
    process.stdout.write(`load: ${clients} clients for ${seconds} s against ${l.urls.join(' ')}\n`);
    const r = await runLoad({ urls: l.urls, token: l.token, modelHash: l.modelHash, plain, clients, durationMs: seconds * 1000, tolerance: which === 'cnn' ? 0.05 : 5e-3, timeoutMs: 120_000, pids: l.children.map((c) => c.pid!) });
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    const text = section(r, modelName, `window ${batch.windowMs} ms, max ${batch.maxBatch} images, ${batch.maxConcurrentRuns} runs at once`);
    if (write) {
      const old = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
      const i = old.indexOf(BEGIN), j = old.indexOf(END);
      const next = i >= 0 && j > i ? old.slice(0, i) + text + old.slice(j + END.length) : `${old.replace(/\n*$/, '\n')}\n## Load\n\n${text}\n`;
      writeFileSync(FILE, next);
      process.stdout.write(`wrote the load section of ${FILE}\n`);
    }
    if (r.wrong || r.duplicates || r.lost || Object.keys(r.errors).length) process.exitCode = 1;
  } finally {
    await l.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`load: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
