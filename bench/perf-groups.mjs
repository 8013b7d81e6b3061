// Where each process's CPU goes, from `perf record -g` samples (CPU time, not wall time: a thread waiting for a core
// is not sampled, unlike V8's --cpu-prof), grouped by the native code at the top of each stack (the frames below the
// first JIT-compiled JS frame): GC, V8's compilers, then the kernel by system call (a socket write under TLS counts
// as the kernel's), then OpenSSL (TLS), nghttp2 (the h2 link), llhttp (HTTP/1),
// the addon's kernels, malloc/free; everything else is JS and V8's runtime for it. JIT symbol
// names from the perf maps (node --perf-basic-prof) go stale when V8 moves code, so JS is not split further here (use
// --cpu-prof and bench/cpuprof-summary.ts for that).
//
//   PARTY_NODE_ARGS="--single-threaded-gc --no-incremental-marking --perf-basic-prof" \
//     node --perf-basic-prof --import tsx bench/cpu-per-prediction.ts --warmup 1500 --blocks 8 --block 400 &
//   (after the warm-up) perf record -e cpu-clock -F 1999 -g -p <client pid>,<P0>,<P1>,<P2> -o perf.data -- sleep 15
//   perf script -i perf.data -F pid,tid,ip,sym,dso > perf.txt
//   node bench/perf-groups.mjs perf.txt [pid=label:ms-of-CPU-per-prediction ...]
//
// Each pid=label:ms argument names a process and gives its CPU per prediction (online + offline, from
// cpu-per-prediction.ts's line of the same run), so that each group's share is also printed in µs per prediction.
// Other threads of a process (V8's compiler and GC helpers, libuv's pool) are counted in a row of their own.
import { readFileSync } from 'node:fs';

const [file, ...named] = process.argv.slice(2);
if (!file) { console.error('usage: node bench/perf-groups.mjs perf.txt [pid=label:ms ...]'); process.exit(2); }
const names = new Map(named.map((a) => { const [pid, rest] = a.split('='); const [label, ms] = (rest ?? '').split(':'); return [pid, { label: label || pid, ms: Number(ms) || 0 }]; }));

const GROUPS = [
  ['GC', /Scavenger|MarkCompact|Heap::CollectGarbage|Sweeper|ConcurrentMarking|ArrayBufferSweeper|MinorMS/],
  ['V8 compilers', /v8::internal::compiler::|Maglev|Compiler::|BaselineBatchCompiler/],
  ['OpenSSL (TLS records, AES-GCM)', /TLSWrap|aesni|gcm|EVP_|ssl3_|SSL_|tls1_|ossl_|BIO_/],
  ['nghttp2 (h2 link framing)', /nghttp2|node::http2::/],
  ['llhttp (HTTP/1 parsing)', /llhttp/],
];

const per = new Map();
for (const s of readFileSync(file, 'utf8').split('\n\n')) {
  const lines = s.split('\n').filter(Boolean);
  if (lines.length < 2) continue;
  const [pid, tid] = lines[0].trim().split(/\s+/)[0].split('/');
  const frames = lines.slice(1).map((l) => { const m = /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(l); return m ? { sym: m[1], dso: m[2] } : { sym: l.trim(), dso: '' }; });
  const js = frames.findIndex((f) => f.sym.startsWith('JS:'));
  const native = js < 0 ? frames : frames.slice(0, js);
  const has = (re) => native.some((f) => re.test(f.sym));
  const leaf = frames[0];
  let g = GROUPS.slice(0, 2).find(([, re]) => has(re))?.[0];
  if (!g && leaf.dso.includes('kernel')) {
    const sc = native.find((f) => /^__x64_sys_|^__do_sys_|^ksys_/.test(f.sym));
    g = `kernel: ${sc ? sc.sym.replace(/^__x64_sys_|^__do_sys_|^ksys_/, '') : native.some((f) => /irq|softirq|schedule/.test(f.sym)) ? 'interrupts, scheduling' : 'other'}`;
  }
  g ??= GROUPS.slice(2).find(([, re]) => has(re))?.[0];
  if (!g) {
    if (leaf.dso.includes('kernel')) {
      const sc = native.find((f) => /^__x64_sys_|^__do_sys_|^ksys_/.test(f.sym));
      g = `kernel: ${sc ? sc.sym.replace(/^__x64_sys_|^__do_sys_|^ksys_/, '') : native.some((f) => /irq|softirq|schedule/.test(f.sym)) ? 'interrupts, scheduling' : 'other'}`;
    } else if (native.some((f) => /securenn/.test(f.dso))) g = 'addon kernels (GEMM, PrivateCompare)';
    else if (/libc/.test(leaf.dso) && /malloc|free|_int_|unlink_chunk|consolidate/.test(leaf.sym)) g = 'malloc / free';
    else g = 'JS and V8 runtime';
  }
  const key = tid === pid ? pid : `${pid} other threads`;
  let P = per.get(key);
  if (!P) per.set(key, (P = { n: 0, groups: new Map() }));
  P.n++;
  P.groups.set(g, (P.groups.get(g) ?? 0) + 1);
}

// Samples of the main thread and of the other threads of one process share its CPU per prediction.
const totalOf = (pid) => [...per].filter(([k]) => k.split(' ')[0] === pid).reduce((s, [, P]) => s + P.n, 0);
for (const [key, P] of [...per].sort((a, b) => b[1].n - a[1].n)) {
  const pid = key.split(' ')[0];
  const nm = names.get(pid);
  if (names.size && !nm) continue;
  const usPerSample = nm?.ms ? (nm.ms * 1000) / totalOf(pid) : 0;
  console.log(`${nm ? nm.label : pid}${key.includes(' ') ? ' (other threads)' : ' (main thread)'}: ${P.n} samples${usPerSample ? `, ${(P.n * usPerSample).toFixed(0)} µs per prediction` : ''}`);
  for (const [g, c] of [...P.groups].sort((a, b) => b[1] - a[1])) {
    if (c / P.n < 0.005) continue;
    console.log(`  ${(100 * c / P.n).toFixed(1).padStart(5)}%${usPerSample ? ` ${(c * usPerSample).toFixed(0).padStart(5)} µs` : ''}  ${g}`);
  }
}
