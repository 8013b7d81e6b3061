import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { coefJpeg } from '../../testing/jpeg-coef-writer.js';
import { flatJpeg } from '../../testing/jpeg-dc-writer.js';
import { manyFramesJpeg, manyScansJpeg } from '../../testing/jpeg-hostile.js';
import { decodeJpegNode } from './decode-node.js';
import { decodeJpegJs, type JpegDecodeOptions } from './jpeg-decoder.js';

/**
 * The copied jpeg-js decoder (jpeg-decoder.ts, jpeg-scan.ts) on hostile input: a scan limit jpeg-js lacks,
 * every failure of the Node path an InputError, and a seeded property test over corrupted valid files: the
 * decoder succeeds or fails where jpeg-js 0.4.4 does, with jpeg-js's message and size (its samples differ by
 * the IDCT only; bench/jpeg-port-check.ts checks them with jpeg-js's IDCT plugged back).
 */
const SEED = 'jpeg-hostile-1';
let ctr = 0, buf = Buffer.alloc(0), k = 0;
const r = (): number => { if (k >= buf.length) { buf = createHash('sha256').update(`${SEED}:${ctr++}`).digest(); k = 0; } return buf[k++]!; };
const u16 = (): number => (r() << 8) | r();

function corrupt(b: Uint8Array, kind: number): Uint8Array {
  const at = (n: number): number => (u16() * 256 + r()) % Math.max(1, n);
  switch (kind % 4) {
    case 0: return b.subarray(0, at(b.length)); // truncated: EOI missing, scans cut
    case 1: { const c = Uint8Array.from(b); for (let i = 0, n = 1 + (r() % 4); i < n; i++) c[at(c.length)] = r(); return c; }
    case 2: { const p = at(b.length), ins = Uint8Array.from({ length: 1 + (r() % 3) }, () => (r() & 1 ? 0xff : r())); const c = new Uint8Array(b.length + ins.length); c.set(b.subarray(0, p)); c.set(ins, p); c.set(b.subarray(p), p + ins.length); return c; }
    default: { const p = at(b.length - 1), c = Uint8Array.from(b); if (c[p] === 0xff) c[p + 1] = r(); else c[p] = 0xff; return c; } // a marker where data was (RST, SOS, DHT, DQT, SOF...)
  }
}

function sources(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 6; i++) {
    const w = 1 + (u16() % 40), h = 1 + (u16() % 30), data = new Uint8Array(w * h * 4);
    for (let j = 0; j < data.length; j++) data[j] = r();
    out.push(new Uint8Array(jpeg.encode({ width: w, height: h, data }, 1 + ((i * 17) % 100)).data));
  }
  out.push(flatJpeg({ width: 20, height: 18, h: 2, v: 2, blocks: [Array.from({ length: 36 }, () => r()), Array.from({ length: 9 }, () => r()), Array.from({ length: 9 }, () => r())] }));
  out.push(flatJpeg({ width: 17, height: 9, h: 1, v: 1, blocks: [Array.from({ length: 6 }, () => r())] }));
  // 16-bit quantisation steps (up to 65535: int16 in libjpeg) with coefficients far out of range
  const qt = Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 65535 : 1 + u16()));
  out.push(coefJpeg({ width: 16, height: 8, qt, blocks: [[Array.from({ length: 64 }, (_, i) => (i === 0 ? 2047 : (r() % 41) - 20)), Array.from({ length: 64 }, (_, i) => (i === 0 ? 1500 : (r() % 2047) - 1023))]] }));
  out.push(manyScansJpeg(24, 16, 3));
  return out;
}

type Out = { ok: true; w: number; h: number; n: number } | { ok: false; msg: string };
const run = (f: () => { width: number; height: number; data: Uint8Array }): Out => {
  try { const x = f(); return { ok: true, w: x.width, h: x.height, n: x.data.length }; } catch (e) { return { ok: false, msg: (e as Error).message }; }
};

describe('Node JPEG decoder on hostile input', () => {
  it('refuses a progressive file of more than 100 scans (each a pass over every block; jpeg-js has no limit) with a coded InputError', () => {
    const ok = decodeJpegNode(manyScansJpeg(64, 48, 100));
    expect([ok.width, ok.height]).toEqual([64, 48]);
    expect(ok.data.every((x) => x === 128)).toBe(true); // DC 0, every AC band an end-of-band run: mid-grey
    const tooMany = manyScansJpeg(64, 48, 101);
    expect(jpeg.decode(tooMany, { useTArray: true }).width).toBe(64); // jpeg-js decodes it: the limit is ours
    let err: unknown;
    try { decodeJpegNode(tooMany); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('E_DTYPE');
    expect(((err as InputError).cause as Error).message).toMatch(/maxScans limit exceeded/);
    expect(() => decodeJpegJs(tooMany, { maxScans: 100 })).toThrow(/maxScans limit exceeded \(more than 100 scans\)/);
  });

  it('refuses a second frame header before allocating its blocks (jpeg-js allocates every frame up to the memory budget first)', () => {
    // A second, 400 MP frame header: jpeg-js (and the port without the option) stops at its resolution check; the
    // Node path refuses the second header itself, before any check or allocation of that frame
    const big = manyFramesJpeg(64, 48, 1), sof2 = [0xff, 0xc2, 0, 11, 8, 20000 >> 8, 20000 & 255, 20000 >> 8, 20000 & 255, 1, 1, 0x11, 0];
    const f = new Uint8Array([...big.subarray(0, big.length - 2), ...sof2, 0xff, 0xd9]);
    expect(() => jpeg.decode(f, { useTArray: true })).toThrow(/maxResolutionInMP limit exceeded/);
    expect(() => decodeJpegJs(f)).toThrow(/maxResolutionInMP limit exceeded/);
    let err: unknown;
    try { decodeJpegNode(f); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InputError);
    expect(((err as InputError).cause as Error).message).toBe('only single frame JPEGs supported');
    // Three small frames under a 1 MB budget: jpeg-js runs out of budget allocating them; with singleFrame the second is refused
    const three = manyFramesJpeg(300, 300, 3);
    expect(() => jpeg.decode(three, { useTArray: true, maxMemoryUsageInMB: 1 })).toThrow(/maxMemoryUsageInMB limit exceeded/);
    expect(() => decodeJpegJs(three, { maxMemoryUsageInMB: 1 })).toThrow(/maxMemoryUsageInMB limit exceeded/);
    expect(() => decodeJpegJs(three, { maxMemoryUsageInMB: 1, singleFrame: true })).toThrow(/^only single frame JPEGs supported$/);
    expect(decodeJpegNode(manyFramesJpeg(300, 300, 1)).width).toBe(300);
  });

  it('corrupted files: the port fails where jpeg-js fails (same message) and decodes to jpeg-js\'s size elsewhere; the Node path throws only InputError; no state between decodes', () => {
    const files = sources();
    const opts: JpegDecodeOptions[] = [
      { formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: 1, maxMemoryUsageInMB: 64, colorTransform: false },
      { formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: 0.002, maxMemoryUsageInMB: 1 },
    ];
    const ref = files.map((f) => decodeJpegJs(f, opts[0]).data);
    let cases = 0, decoded = 0, failed = 0;
    const bad: string[] = [];
    const t0 = process.cpuUsage();
    for (const [fi, f] of files.entries()) {
      for (let v = 0; v < 60; v++) {
        const bytes = corrupt(f, v);
        for (const [oi, o] of opts.entries()) {
          const a = run(() => jpeg.decode(bytes, { ...o, useTArray: true })), b = run(() => decodeJpegJs(bytes, o));
          cases++;
          if (a.ok) decoded++; else failed++;
          const same = a.ok && b.ok ? a.w === b.w && a.h === b.h && a.n === b.n : !a.ok && !b.ok && a.msg === b.msg;
          if (!same) bad.push(`file ${fi} variant ${v} opts ${oi}: jpeg-js ${JSON.stringify(a)} port ${JSON.stringify(b)}`);
        }
        try { decodeJpegNode(bytes); } catch (e) { if (!(e instanceof InputError)) bad.push(`file ${fi} variant ${v}: decodeJpegNode threw ${(e as Error).name}`); }
      }
      // the same valid file again after its corruptions: identical samples (no module state kept)
      expect(Buffer.from(decodeJpegJs(f, opts[0]).data).equals(Buffer.from(ref[fi]!))).toBe(true);
    }
    const cpu = process.cpuUsage(t0);
    expect(bad).toEqual([]);
    expect(cases).toBe(files.length * 60 * 2);
    expect(decoded).toBeGreaterThan(100); // the corruptions reach the scans, not only the header checks
    expect(failed).toBeGreaterThan(100);
    expect((cpu.user + cpu.system) / 1e6).toBeLessThan(60); // bounded: no corruption makes either decoder loop
  });
});
