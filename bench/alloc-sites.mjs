// Where large typed arrays are allocated (a development aid for the speed work: every
// large typed array is external memory to V8, and enough of them trigger
// mark-compact GCs). Preload it into any script; at exit it prints the bytes
// allocated per call site (arrays of 64 KiB and more), largest first:
//
//   node --import ./bench/alloc-sites.mjs --import tsx <script.ts> [args]
//
// It wraps the typed-array constructors in Proxies, so timings under it mean
// nothing. Buffers that Node and grpc-js allocate inside their own code
// (received messages) are not seen.
const stats = new Map();
const MIN = 1 << 16;
function site() {
  const s = new Error().stack.split('\n').slice(3, 6).map((l) => l.trim().replace(/^at /, '').replace(/\(.*\/(work\/main\/)?/, '(').replace(/file:\/\/\/work\/main\//, '')).join(' < ');
  return s;
}
for (const name of ['BigUint64Array', 'Uint8Array', 'Float64Array', 'Uint32Array', 'Int32Array']) {
  const Orig = globalThis[name];
  const Wrapped = new Proxy(Orig, {
    construct(target, args, newTarget) {
      const a = args[0];
      if (typeof a === 'number' && a * Orig.BYTES_PER_ELEMENT >= MIN) {
        const k = `${name} ${site()}`; const e = stats.get(k) ?? { n: 0, bytes: 0 }; e.n++; e.bytes += a * Orig.BYTES_PER_ELEMENT; stats.set(k, e);
      } else if (a instanceof ArrayBuffer || (a && typeof a === 'object' && typeof a.length === 'number' && !(a instanceof ArrayBuffer) && a.length * Orig.BYTES_PER_ELEMENT >= MIN && !(args.length > 1))) {
        if (!(a instanceof ArrayBuffer)) { const k = `${name}(from) ${site()}`; const e = stats.get(k) ?? { n: 0, bytes: 0 }; e.n++; e.bytes += a.length * Orig.BYTES_PER_ELEMENT; stats.set(k, e); }
      }
      return Reflect.construct(target, args, newTarget === Wrapped ? target : newTarget);
    },
  });
  globalThis[name] = Wrapped;
}
{
  const Orig = ArrayBuffer;
  globalThis.ArrayBuffer = new Proxy(Orig, { construct(t, args, nt) { if (args[0] >= MIN) { const k = `ArrayBuffer ${site()}`; const e = stats.get(k) ?? { n: 0, bytes: 0 }; e.n++; e.bytes += args[0]; stats.set(k, e); } return Reflect.construct(t, args, nt === globalThis.ArrayBuffer ? t : nt); } });
}
process.on('exit', () => {
  const arr = [...stats].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 40);
  let tot = 0; for (const [, v] of stats) tot += v.bytes;
  console.log('total MB', (tot / 2 ** 20).toFixed(0));
  for (const [k, v] of arr) console.log((v.bytes / 2 ** 20).toFixed(1).padStart(8), 'MB', String(v.n).padStart(6), k.slice(0, 230));
});
