/**
 * The JPEG segment walker (jpeg-segments.ts) step by step: what it yields for each kind of byte sequence and why it
 * ends; its readers' answers on the same edge cases are in client-sdk/src/image/jpeg-walk.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSofMarker, jpegSegments, type JpegSegment, type JpegWalkEnd, type JpegWalkOptions } from './jpeg-segments.js';

const steps = (bytes: number[], opts: JpegWalkOptions = { ff00: 'stop' }) => [...jpegSegments(Uint8Array.from(bytes), opts)];
const seg = (marker: number, at: number, length: number) => ({ kind: 'segment', marker, at, length });
const end = (why: string, at: number) => ({ kind: 'end', why, at });

describe('jpegSegments', () => {
  it('yields each segment with its offset and length field, steps over fill bytes and standalone markers, ends at SOS', () => {
    const b = [0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2, 0xff, 0xff, 0xff, 0xd0, 0xff, 0x01, 0xff, 0xd8, 0xff, 0xdb, 0, 2, 0xff, 0xda, 0, 2];
    expect(steps(b)).toEqual([seg(0xe0, 2, 4), seg(0xdb, 16, 2), end('sos', 20)]);
    expect(steps([0xff, 0xd8, 0xff, 0xc0, 0, 2, 0xff, 0xd9, 0, 0])).toEqual([seg(0xc0, 2, 2), end('eoi', 6)]);
  });

  it('ends with the data (fewer than 4 bytes at a position), at a non-marker byte, or after a length past the data', () => {
    expect(steps([0xff, 0xd8])).toEqual([end('out-of-data', 2)]);
    expect(steps([0xff, 0xd8, 0xff, 0xe0, 0])).toEqual([end('out-of-data', 2)]);
    expect(steps([0xff, 0xd8, 0x12, 0x34, 0xff, 0xe0, 0, 2])).toEqual([end('not-a-marker', 2)]);
    expect(steps([0xff, 0xd8, 0xff, 0xe1, 0x10, 0, 1, 2, 3])).toEqual([seg(0xe1, 2, 0x1000), end('out-of-data', 0x1004)]);
  });

  it('a length field below 2 is yielded, and the walk ends inside it', () => {
    expect(steps([0xff, 0xd8, 0xff, 0xe2, 0, 0, 0xff, 0xc0, 0, 2, 0, 0])).toEqual([seg(0xe2, 2, 0), end('not-a-marker', 4)]);
    expect(steps([0xff, 0xd8, 0xff, 0xe2, 0, 1, 0xff, 0xc0, 0, 2, 0, 0])).toEqual([seg(0xe2, 2, 1), end('not-a-marker', 5)]);
    expect(steps([0xff, 0xd8, 0xff, 0xe2, 0, 1, 0xff, 0xc0])).toEqual([seg(0xe2, 2, 1), end('out-of-data', 5)]);
  });

  it("FF 00: ends the walk with ff00 'stop', is read as a segment with ff00 'segment'", () => {
    const b = [0xff, 0xd8, 0xff, 0x00, 0, 2, 0xff, 0xc0, 0, 2, 0xff, 0xda, 0, 0];
    expect(steps(b, { ff00: 'stop' })).toEqual([end('ff00', 2)]);
    expect(steps(b, { ff00: 'segment' })).toEqual([seg(0x00, 2, 2), seg(0xc0, 6, 2), end('sos', 10)]);
  });

  it('isSofMarker: C0-CF but C4, C8, CC', () => {
    expect(Array.from({ length: 256 }, (_, m) => m).filter(isSofMarker)).toEqual([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
  });

  /**
   * Adversarial byte strings (CSPRNG): SOI, then pieces drawn from markers with lengths 0, 1, exact, 0xFFFF or past
   * the data, FF runs, FF 00, standalone markers, stray bytes, cut at a random point, some as a view with a
   * byteOffset. Whatever the bytes, the walk ends (one end step, last, at most one step per byte), every segment is
   * read inside the data at an FF, only fill bytes and standalone markers lie between the positions it reads, its end
   * reason is what the bytes there say, and 'stop' and 'segment' agree up to the first FF 00.
   */
  it('on adversarial bytes: ends, reads only inside the data, skips only fill bytes and standalone markers', () => {
    const pool = randomBytes(1 << 18);
    let pi = 0;
    const rb = (): number => pool[pi++ % pool.length]!;
    const standalone = (m: number): boolean => m === 0x01 || (m >= 0xd0 && m <= 0xd8);
    const MARKERS = [0xe0, 0xe1, 0xee, 0xc0, 0xc2, 0xc4, 0xdb, 0xfe, 0xda, 0xd9, 0xd8, 0xd3, 0x01, 0x00, 0xff, 0x02];
    for (let t = 0; t < 3000; t++) {
      const out = [0xff, 0xd8];
      for (let s = rb() % 10; s > 0; s--) {
        const r = rb() % 8;
        if (r === 0) out.push(rb());
        else if (r === 1) for (let i = rb() % 6; i >= 0; i--) out.push(0xff);
        else {
          const m = MARKERS[rb() % MARKERS.length]!, body = Array.from({ length: rb() % 12 }, rb);
          const L = [0, 1, body.length + 2, 0xffff, body.length + 2 + (rb() % 40)][rb() % 5]!;
          out.push(0xff, m, L >> 8, L & 0xff, ...body);
        }
      }
      const whole = Uint8Array.from(out).subarray(0, rb() % 2 ? out.length : rb() % (out.length + 1));
      const b = rb() % 2 ? whole : (() => { const big = new Uint8Array(whole.length + 5); big.set(whole, 3); return big.subarray(3, 3 + whole.length); })();
      for (const ff00 of ['stop', 'segment'] as const) {
        const st = [...jpegSegments(b, { ff00 })];
        expect(st.length).toBeLessThanOrEqual(Math.max(1, b.length));
        expect(st.slice(0, -1).every((x) => x.kind === 'segment')).toBe(true);
        const last = st[st.length - 1] as JpegWalkEnd;
        expect(last.kind).toBe('end');
        let pos = 2;
        for (const x of st) {
          // Between the last position and this one: only FF FF (one byte) and FF + a standalone marker (two).
          while (pos < x.at) {
            expect(b[pos]).toBe(0xff);
            pos += b[pos + 1] === 0xff ? 1 : standalone(b[pos + 1]!) ? 2 : Infinity;
          }
          expect(pos).toBe(x.at);
          if (x.kind === 'segment') {
            expect(x.at + 4).toBeLessThanOrEqual(b.length);
            expect([b[x.at], b[x.at + 1], (b[x.at + 2]! << 8) | b[x.at + 3]!]).toEqual([0xff, x.marker, x.length]);
            expect(x.marker === 0xff || x.marker === 0xda || x.marker === 0xd9 || standalone(x.marker) || (x.marker === 0 && ff00 === 'stop')).toBe(false);
            pos = x.at + 2 + x.length;
          }
        }
        const at = last.at, want = at + 4 > b.length ? 'out-of-data' : b[at] !== 0xff ? 'not-a-marker' : ({ 0xda: 'sos', 0xd9: 'eoi', 0x00: 'ff00' } as Record<number, string>)[b[at + 1]!];
        expect(last.why).toBe(want);
      }
      const stop = [...jpegSegments(b, { ff00: 'stop' })], seg = [...jpegSegments(b, { ff00: 'segment' })];
      const cut = stop[stop.length - 1]!.kind === 'end' && (stop[stop.length - 1] as JpegWalkEnd).why === 'ff00' ? stop.length - 1 : stop.length;
      expect(seg.slice(0, cut) as (JpegSegment | JpegWalkEnd)[]).toEqual(stop.slice(0, cut));
    }
  });
});
