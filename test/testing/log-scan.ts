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

interface SortedReals { name: string; sorted: Float64Array; minSignificant: number }

function sortedReals(c: RealClass): SortedReals {
  const a = Float64Array.from(c.values).filter((v) => Number.isFinite(v));
  a.sort();
  return { name: c.name, sorted: a, minSignificant: c.minSignificant };
}

/** Index of the first element >= x. */
function lowerBound(a: Float64Array | BigUint64Array, x: number | bigint): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number | bigint) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SecretIndex {
  private u64 = new BigUint64Array(0);
  private readonly u64Parts: { name: string; values: BigUint64Array }[] = [];
  private readonly reals: SortedReals[] = [];
  private readonly publicIds = new Set<string>();
  private readonly strings: { name: string; value: string }[] = [];
  private sealed = false;

  /** 64-bit values (shares, two's complement encodings) that must not appear. */
  addU64(name: string, values: BigUint64Array): this {
    this.u64Parts.push({ name, values });
    this.sealed = false;
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

  private seal(): void {
    if (this.sealed) return;
    const all = new BigUint64Array(this.u64Count);
    let o = 0;
    for (const p of this.u64Parts) { all.set(p.values, o); o += p.values.length; }
    all.sort();
    this.u64 = all;
    this.sealed = true;
  }

  private u64Class(v: bigint): string | null {
    this.seal();
    const i = lowerBound(this.u64, v);
    if (i >= this.u64.length || this.u64[i] !== v) return null;
    for (const p of this.u64Parts) if (p.values.includes(v)) return p.name;
    return 'u64';
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
    lines.forEach((raw, line) => {
      const add = (kind: FindingKind, token: string, what: string) => out.push({ line, kind, token: token.length > 80 ? `${token.slice(0, 77)}...` : token, what });
      for (const s of this.strings) if (raw.includes(s.value)) add('secret-string', s.name, s.name);
      // UUIDs (session and run ids) are public; blank them so their hex groups do not look like values.
      const text = raw.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, 'UUID');

      // 1. Integers: signed/unsigned decimal u64 renderings.
      for (const m of text.matchAll(/(?<![\w.])-?\d{9,20}(?![\w.])/g)) {
        const v = BigInt(m[0]);
        if (v < -(1n << 63n) || v >= 1n << 64n) continue;
        const c = this.u64Class(BigInt.asUintN(64, v));
        if (c) add('u64', m[0], `${c} (decimal)`);
      }
      // 2. Hex words (8..16 digits; longer ones are checked in 16-digit windows).
      for (const m of text.matchAll(/(?<![\w])(?:0x)?([0-9a-fA-F]{8,})(?![\w])/g)) {
        const h = m[1]!;
        if (this.isPublic(h)) continue;
        const windows = h.length <= 16 ? [h] : Array.from({ length: Math.floor(h.length / 16) }, (_, i) => h.slice(16 * i, 16 * i + 16));
        for (const w of windows) {
          const be = BigInt(`0x${w}`);
          const le = w.length === 16 ? BigInt(`0x${w.match(/../g)!.reverse().join('')}`) : -1n;
          const c = this.u64Class(be) ?? (le >= 0n ? this.u64Class(le) : null);
          if (c) { add('u64', m[0], `${c} (hex)`); break; }
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
  for (let i = 0; i < values.length; i++) out[i] = BigInt.asUintN(64, BigInt(Math.round(values[i]! * 2 ** f)));
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
