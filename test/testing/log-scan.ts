/**
 * Log scanner for the end-to-end suite (not a test file): finds values that
 * must never reach a party's log (input pixels, weights, outputs and any share
 * of them) in captured log lines, in the renderings a logger produces.
 *
 *  - Integers of 9+ digits (signed or unsigned decimal) and hex words of 8+
 *    digits (with or without 0x, big- or little-endian byte order) are parsed
 *    and looked up among the known 64-bit values: the client's input shares,
 *    the output shares, the weight shares of P0 and P1, and the two's
 *    complement fixed-point encodings of weights and outputs.
 *  - Decimal numbers with a fraction or an exponent are matched against the
 *    known real values at the precision they were printed with: "0.0123457"
 *    matches a weight w when w rounds to it. A value class needs a minimum
 *    number of significant digits to count (weights 7: 263k weights would
 *    match almost any short number; outputs 4; pixel values k/255 5).
 *  - Forbidden strings (the bearer token) anywhere in a line.
 *  - Generic shapes of a leak, whatever the value: runs of 15+ digits, runs of
 *    16+ hex digits or 24+ base64 characters (other than the public
 *    identifiers given: model hash, import id), JSON arrays of 8+ numbers,
 *    serialized Buffers and typed arrays.
 */

export type FindingKind = 'secret-string' | 'u64' | 'real' | 'digit-run' | 'hex-run' | 'base64-run' | 'number-array' | 'buffer-json';

export interface Finding {
  /** Index of the line in the scanned list. */
  line: number;
  kind: FindingKind;
  token: string;
  what: string;
}

export interface RealClass {
  name: string;
  values: ArrayLike<number>;
  /** Significant digits a printed number needs before it can count as this class. */
  minSignificant: number;
}

/** Whether the low 32-bit half of a u64 or double comes first in memory (it does on x86 and arm64). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface SortedReals { name: string; sorted: Float64Array; minSignificant: number }

function sortedReals(c: RealClass): SortedReals {
  const a = new Float64Array(c.values.length);
  let k = 0;
  for (let i = 0; i < c.values.length; i++) { const v = c.values[i]!; if (Number.isFinite(v)) a[k++] = v; }
  return { name: c.name, sorted: sortDoubles(a.subarray(0, k)), minSignificant: c.minSignificant };
}

/**
 * The doubles in ascending order (-0 before +0), as Float64Array.prototype.sort
 * orders them: an LSD radix sort over 16-bit digits of the IEEE bits made
 * monotone (sign bit flipped on positives, all bits on negatives). V8's
 * typed-array sort takes seconds for the millions of weights of a zoo model.
 */
export function sortDoubles(a: Float64Array): Float64Array {
  const n = a.length;
  const [L, H] = LITTLE_ENDIAN ? [0, 1] : [1, 0];
  const bits = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  let lo = new Uint32Array(n), hi = new Uint32Array(n), lo2 = new Uint32Array(n), hi2 = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const l = bits[2 * i + L]!, h = bits[2 * i + H]!;
    if (h >>> 31) { lo[i] = ~l >>> 0; hi[i] = ~h >>> 0; } else { lo[i] = l; hi[i] = (h | 0x80000000) >>> 0; }
  }
  const count = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi, shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[((key[i]! >>> shift) & 0xffff) + 1]!++;
    for (let d = 1; d <= 65536; d++) count[d]! += count[d - 1]!;
    for (let i = 0; i < n; i++) {
      const j = count[(key[i]! >>> shift) & 0xffff]!++;
      lo2[j] = lo[i]!; hi2[j] = hi[i]!;
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }
  const out = new Float64Array(n);
  const ob = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    if (h >>> 31) { ob[2 * i + H] = (h & 0x7fffffff) >>> 0; ob[2 * i + L] = lo[i]!; } else { ob[2 * i + H] = ~h >>> 0; ob[2 * i + L] = ~lo[i]! >>> 0; }
  }
  return out;
}

/** Index of the first element >= x. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Bits of a u64's low half in the prefilter of SecretIndex.resolve (a bit set of 2^20 bits, 128 KiB). */
const FILTER_BITS = 20;

/** A u64 token of a log line: a decimal (one value) or a hex word (per 16-digit window: big-endian, then little-endian). */
interface U64Token { token: string; how: 'decimal' | 'hex'; windows: bigint[][] }

export class SecretIndex {
  private readonly u64Parts: { name: string; values: BigUint64Array }[] = [];
  /** u64 values looked up so far -> the first class (in the order added) that holds each, or null. */
  private readonly known = new Map<bigint, string | null>();
  private readonly reals: SortedReals[] = [];
  private readonly publicIds = new Set<string>();
  private readonly strings: { name: string; value: string }[] = [];

  /** 64-bit values (shares, two's complement encodings) that must not appear. */
  addU64(name: string, values: BigUint64Array): this {
    this.u64Parts.push({ name, values });
    this.known.clear();
    return this;
  }

  /** Real values (weights, pixels, logits, probabilities) that must not appear. */
  addReals(c: RealClass): this {
    this.reals.push(sortedReals(c));
    return this;
  }

  /** A string that must not appear anywhere (the bearer token). */
  forbid(name: string, value: string): this {
    if (value) this.strings.push({ name, value });
    return this;
  }

  /** Long hex/base64 identifiers that may appear (model hash, import id). */
  allow(id: string): this {
    if (id) this.publicIds.add(id.toLowerCase());
    return this;
  }

  get u64Count(): number { return this.u64Parts.reduce((s, p) => s + p.values.length, 0); }

  /**
   * Looks the values not seen before up in one pass over every class: a log
   * has a few hundred u64 tokens, the classes millions of values (a sorted
   * index of them cost seconds per model to build). The values' low halves
   * go through a bit set first, so a class value is read as two 32-bit words
   * and almost always dropped there, without making a bigint.
   */
  private resolve(vs: Iterable<bigint>): void {
    const todo = new Map<number, bigint[]>();
    const filter = new Uint32Array((1 << FILTER_BITS) >>> 5);
    const mask = (1 << FILTER_BITS) - 1;
    for (const v of vs) {
      if (this.known.has(v)) continue;
      this.known.set(v, null);
      const lo = Number(v & 0xffffffffn);
      const list = todo.get(lo);
      if (list) list.push(v); else todo.set(lo, [v]);
      filter[(lo & mask) >>> 5]! |= 1 << (lo & 31);
    }
    if (todo.size === 0) return;
    const [L, H] = LITTLE_ENDIAN ? [0, 1] : [1, 0];
    for (const p of this.u64Parts) {
      const w = new Uint32Array(p.values.buffer, p.values.byteOffset, p.values.length * 2);
      for (let i = 0; i < w.length; i += 2) {
        const lo = w[i + L]!;
        if ((filter[(lo & mask) >>> 5]! & (1 << (lo & 31))) === 0) continue;
        const list = todo.get(lo);
        if (!list) continue;
        const hi = w[i + H]!;
        for (const v of list) if (Number(v >> 32n) === hi && this.known.get(v) === null) this.known.set(v, p.name);
      }
    }
  }

  /** The first class (in the order added) holding v; resolve() must have seen v. */
  private u64Class(v: bigint): string | null {
    return this.known.get(v) ?? null;
  }

  /** The u64 renderings in a line (UUIDs already blanked): decimal integers, and hex words not among the public ids. */
  private u64Tokens(text: string): U64Token[] {
    const out: U64Token[] = [];
    // 1. Integers: signed/unsigned decimal u64 renderings.
    for (const m of text.matchAll(/(?<![\w.])-?\d{9,20}(?![\w.])/g)) {
      const v = BigInt(m[0]);
      if (v < -(1n << 63n) || v >= 1n << 64n) continue;
      out.push({ token: m[0], how: 'decimal', windows: [[BigInt.asUintN(64, v)]] });
    }
    // 2. Hex words (8..16 digits; longer ones are checked in 16-digit windows).
    for (const m of text.matchAll(/(?<![\w])(?:0x)?([0-9a-fA-F]{8,})(?![\w])/g)) {
      const h = m[1]!;
      if (this.isPublic(h)) continue;
      const windows = h.length <= 16 ? [h] : Array.from({ length: Math.floor(h.length / 16) }, (_, i) => h.slice(16 * i, 16 * i + 16));
      out.push({
        token: m[0],
        how: 'hex',
        windows: windows.map((w) => (w.length === 16 ? [BigInt(`0x${w}`), BigInt(`0x${w.match(/../g)!.reverse().join('')}`)] : [BigInt(`0x${w}`)])),
      });
    }
    return out;
  }

  private realClass(token: string): string | null {
    const m = /^-?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(token);
    if (!m) return null;
    const intDigits = m[1] ?? '';
    const fracDigits = m[2] ?? '';
    const exp = Number(m[3] ?? 0);
    const significant = (intDigits + fracDigits).replace(/^0+/, '').length;
    const t = Number(token);
    if (!Number.isFinite(t) || significant === 0) return null;
    // Half a unit in the last printed place (of the mantissa, scaled by the exponent).
    const half = 0.5 * 10 ** (exp - fracDigits.length);
    const tol = half * (1 + 1e-9) + Number.EPSILON * Math.abs(t);
    for (const c of this.reals) {
      if (significant < c.minSignificant) continue;
      const i = lowerBound(c.sorted, t - tol);
      if (i < c.sorted.length && c.sorted[i]! <= t + tol) return `${c.name} ${c.sorted[i]}`;
    }
    return null;
  }

  private isPublic(s: string): boolean {
    const l = s.toLowerCase().replace(/^0x/, '');
    for (const id of this.publicIds) if (id.includes(l)) return true;
    return false;
  }

  /** Findings in the given log lines; an empty list means clean. */
  scan(lines: readonly string[]): Finding[] {
    const out: Finding[] = [];
    // UUIDs (session and run ids) are public; blank them so their hex groups do not look like values.
    const texts = lines.map((raw) => raw.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, 'UUID'));
    const tokens = texts.map((t) => this.u64Tokens(t));
    this.resolve(tokens.flat().flatMap((t) => t.windows.flat()));
    lines.forEach((raw, line) => {
      const add = (kind: FindingKind, token: string, what: string) => out.push({ line, kind, token: token.length > 80 ? `${token.slice(0, 77)}...` : token, what });
      for (const s of this.strings) if (raw.includes(s.value)) add('secret-string', s.name, s.name);
      const text = texts[line]!;

      // 1. and 2. Decimal integers, then hex words (the first 16-digit window that is a secret, big- then little-endian).
      for (const t of tokens[line]!) {
        for (const w of t.windows) {
          const c = w.reduce<string | null>((found, v) => found ?? this.u64Class(v), null);
          if (c) { add('u64', t.token, `${c} (${t.how})`); break; }
        }
      }
      // 3. Real numbers at their printed precision.
      for (const m of text.matchAll(/(?<![\w.])-?(?:\d+\.\d+|\.\d+|\d+(?:\.\d+)?[eE][+-]?\d+)(?![\w.])/g)) {
        const c = this.realClass(m[0]);
        if (c) add('real', m[0], c);
      }
      // 4. Shapes of a leak, whatever the value.
      let generic = text;
      for (const id of this.publicIds) generic = generic.split(id).join('ID').split(id.toUpperCase()).join('ID');
      for (const m of generic.matchAll(/\d{15,}/g)) add('digit-run', m[0], 'a run of 15+ digits');
      for (const m of generic.matchAll(/(?<![\w])(?:0x)?[0-9a-fA-F]{16,}/g)) add('hex-run', m[0], 'a run of 16+ hex digits');
      for (const m of generic.matchAll(/[A-Za-z0-9+]{24,}={0,2}/g)) {
        const s = m[0];
        // Words are not blobs: a blob mixes digits with both letter cases. ('/', '-' and '_' end a
        // run so that paths and temp names do not count; a long base64 blob still has such runs.)
        if (/\d/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s)) add('base64-run', s, 'a run of 24+ base64 characters');
      }
      const num = String.raw`-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`;
      for (const m of generic.matchAll(new RegExp(String.raw`\[\s*${num}(?:\s*,\s*${num}){7,}\s*\]`, 'g'))) add('number-array', m[0], 'an array of 8+ numbers');
      if (/"type"\s*:\s*"Buffer"\s*,\s*"data"\s*:/.test(generic)) add('buffer-json', 'Buffer', 'a serialized Buffer');
      if (new RegExp(String.raw`\{\s*"0"\s*:\s*${num}\s*,\s*"1"\s*:\s*${num}`).test(generic)) add('buffer-json', '{"0":..}', 'a serialized typed array');
    });
    return out;
  }
}

/** Two's complement u64 of round(v * 2^f) for each real value (what the fixed-point encoding stores). */
export function fixedPointU64(values: ArrayLike<number>, f: number): BigUint64Array {
  const out = new BigUint64Array(values.length);
  // Below 2^53 the rounded value is an exact integer double: its two 32-bit words are written directly (millions of
  // weights per model); above, and for NaN or infinities (which throw), through BigInt.
  const w = new Uint32Array(out.buffer);
  const [L, H] = LITTLE_ENDIAN ? [0, 1] : [1, 0];
  const scale = 2 ** f;
  for (let i = 0; i < values.length; i++) {
    const r = Math.round(values[i]! * scale);
    if (Math.abs(r) < 2 ** 53) {
      const hi = Math.floor(r / 2 ** 32);
      w[2 * i + L] = (r - hi * 2 ** 32) >>> 0;
      w[2 * i + H] = hi >>> 0;
    } else {
      out[i] = BigInt.asUintN(64, BigInt(r));
    }
  }
  return out;
}

/** Little-endian u64 words of a byte buffer (shares as sent or stored). */
export function u64Words(bytes: Uint8Array): BigUint64Array {
  const n = Math.floor(bytes.byteLength / 8);
  const copy = new Uint8Array(n * 8);
  copy.set(bytes.subarray(0, n * 8));
  return new BigUint64Array(copy.buffer);
}

/** A short report of findings, with the offending lines, for assertion messages. */
export function describeFindings(findings: readonly Finding[], lines: readonly string[], max = 10): string {
  return findings.slice(0, max).map((f) => `line ${f.line}: ${f.kind} ${f.token} (${f.what}) in ${lines[f.line]!.slice(0, 300)}`).join('\n') + (findings.length > max ? `\n... ${findings.length - max} more` : '');
}
