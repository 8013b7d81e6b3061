/**
 * The JPEG segment walker (jpeg-segments.ts) step by step: what it yields for each kind of byte sequence and why it
 * ends; its readers' answers on the same edge cases are in client-sdk/src/image/jpeg-walk.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isSofMarker, jpegSegments, type JpegWalkOptions } from './jpeg-segments.js';

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
});
