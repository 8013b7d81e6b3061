import { describe, expect, it } from 'vitest';
import { flatJpeg, type FlatJpeg } from '../../testing/jpeg-dc-writer.js';
import { decodeImageNode } from './decode-node.js';
import { jpegFrame, jpegSupport, withoutAdobe } from './jpeg-markers.js';

/**
 * The layouts the SDK decodes as Pillow (libjpeg) does, read from the markers (jpeg-markers.ts), and the refusal of
 * every other one (E_IMAGE_PREPROCESSING, reason JPEG_LAYOUT) before anything is decoded. Files are written with
 * testing/jpeg-dc-writer.ts (flat blocks: block coded k decodes to 128 + k exactly). Before, main decoded CMYK,
 * YCCK and subsampled-chroma files with jpeg-js's own upsampling and colour transform (80 to 101 levels off Pillow,
 * bench/preproc-oracle.ts layouts), and converted an RGB (Adobe transform 0, or ids 'R','G','B') file as YCbCr.
 */
const file = (over: Partial<FlatJpeg> & { sampling?: [number, number][] } = {}, n = 3): Uint8Array => {
  const samp = over.sampling ?? Array.from({ length: n }, (_, c) => (c === 0 ? [over.h ?? 1, over.v ?? 1] : [1, 1]) as [number, number]);
  const mh = Math.max(...samp.map((s) => s[0])), mv = Math.max(...samp.map((s) => s[1]));
  const W = 32, H = 16, mx = Math.ceil(W / (8 * mh)), my = Math.ceil(H / (8 * mv));
  const blocks = samp.map(([h, v], c) => new Array<number>(n === 1 ? (W / 8) * (H / 8) : mx * h * my * v).fill([200, 100, 50, 30][c]!));
  return flatJpeg({ width: W, height: H, h: 1, v: 1, blocks, ...over, sampling: samp });
};

async function refusal(bytes: Uint8Array): Promise<{ code?: string; reason?: string; message: string }> {
  try {
    await decodeImageNode(bytes);
  } catch (e) {
    return e as { code?: string; reason?: string; message: string };
  }
  throw new Error('decoded: expected a refusal');
}

describe('JPEG layouts: decoded as libjpeg (Pillow) does, or refused (jpeg-markers.ts)', () => {
  it('reads SOF, JFIF and Adobe APP14 from the markers', () => {
    const f = jpegFrame(file({ adobe: 2, jfif: true, sampling: [[2, 2], [1, 1], [1, 1], [2, 2]] }, 4))!;
    expect(f).toEqual({ sof: 0xc0, precision: 8, components: [{ id: 1, h: 2, v: 2 }, { id: 2, h: 1, v: 1 }, { id: 3, h: 1, v: 1 }, { id: 4, h: 2, v: 2 }], jfif: true, adobe: 2 });
    expect(jpegFrame(new Uint8Array([0xff, 0xd8]))).toBeUndefined();
    expect(jpegSupport(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toBeUndefined();
  });

  it('classifies the layouts: grey, YCbCr 4:4:4 / 4:2:2 / 4:2:0 (Adobe or not), RGB 1x1 accepted; everything else refused', () => {
    expect(jpegSupport(file({}, 1))).toEqual({ kind: 'grey' });
    expect(jpegSupport(file({ h: 1, v: 1 }))).toEqual({ kind: 'ycc', h: 1, v: 1 });
    expect(jpegSupport(file({ h: 2, v: 1 }))).toEqual({ kind: 'ycc', h: 2, v: 1 });
    expect(jpegSupport(file({ h: 2, v: 2 }))).toEqual({ kind: 'ycc', h: 2, v: 2 });
    expect(jpegSupport(file({ h: 2, v: 2, adobe: 1 }))).toEqual({ kind: 'ycc', h: 2, v: 2 });
    expect(jpegSupport(file({ h: 2, v: 2, adobe: 0, jfif: true }))).toEqual({ kind: 'ycc', h: 2, v: 2 }); // JFIF wins (jdapimin.c)
    expect(jpegSupport(file({ adobe: 0 }))).toEqual({ kind: 'rgb' });
    expect(jpegSupport(file({ ids: [82, 71, 66] }))).toEqual({ kind: 'rgb' });
    const refused = (b: Uint8Array): string => { const s = jpegSupport(b); return s?.kind === 'refused' ? s.layout : `accepted ${s?.kind}`; };
    expect(jpegSupport(file({ h: 1, v: 2 }))).toEqual({ kind: 'ycc', h: 1, v: 2 }); // 4:4:0
    expect(jpegSupport(file({ h: 4, v: 1 }))).toEqual({ kind: 'ycc', h: 4, v: 1 }); // 4:1:1
    expect(refused(file({ h: 4, v: 2 }))).toBe('YCbCr sampling 4x2, 1x1, 1x1');
    expect(refused(file({ sampling: [[2, 2], [2, 1], [1, 1]] }))).toBe('YCbCr sampling 2x2, 2x1, 1x1');
    expect(refused(file({ h: 2, v: 2, adobe: 0 }))).toBe('RGB (no colour transform) with sampling 2x2, 1x1, 1x1');
    expect(refused(file({ adobe: 0, sampling: [[2, 2], [1, 1], [1, 1], [2, 2]] }, 4))).toBe('4 components (CMYK), sampling 2x2, 1x1, 1x1, 2x2');
    expect(refused(file({ adobe: 2 }, 4))).toBe('4 components (YCCK), sampling 1x1, 1x1, 1x1, 1x1');
    expect(refused(file({}, 2))).toBe('2 components');
    const twelve = file({}, 1); twelve[twelve.indexOf(0xc0, 4) + 3] = 12; // SOF's P
    expect(refused(twelve)).toBe('12-bit samples');
  });

  it('refuses CMYK, YCCK, 4:1:0, subsampled chroma and 2-component files with a coded error naming the layout, no pixel', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [file({ adobe: 0 }, 4), /4 components \(CMYK\)/],
      [file({ adobe: 2, sampling: [[2, 2], [1, 1], [1, 1], [2, 2]] }, 4), /4 components \(YCCK\)/],
      [file({ h: 4, v: 2 }), /YCbCr sampling 4x2, 1x1, 1x1/],
      [file({ sampling: [[2, 2], [2, 1], [1, 1]] }), /YCbCr sampling 2x2, 2x1, 1x1/],
      [file({ adobe: 0, h: 2, v: 1 }), /RGB \(no colour transform\) with sampling 2x1/],
      [file({}, 2), /2 components/],
    ];
    for (const [bytes, layout] of cases) {
      const e = await refusal(bytes);
      expect([e.code, e.reason]).toEqual(['E_IMAGE_PREPROCESSING', 'JPEG_LAYOUT']);
      expect(e.message).toMatch(layout);
      expect(e.message).not.toMatch(/\b(200|100|50|30)\b/); // names the layout, never a sample
    }
  });

  it('an Adobe-marked (transform 1) 4:2:0 file decodes as the same file without the segment (libjpeg: YCbCr either way)', async () => {
    const blocks = [Array.from({ length: 8 }, (_, i) => 100 + 10 * i), [64, 192], [200, 30]];
    const plain = await decodeImageNode(flatJpeg({ width: 32, height: 16, h: 2, v: 2, blocks }));
    const adobe = await decodeImageNode(flatJpeg({ width: 32, height: 16, h: 2, v: 2, blocks, adobe: 1 }));
    expect(Array.from(adobe.data)).toEqual(Array.from(plain.data));
    // Before, jpeg-js's forced transform replicated the chroma: pixels 14 and 15 (same luma block, next to the Cb 64 | 192
    // edge at 16) were equal; libjpeg blends Cb 64 | 96 there.
    expect(adobe.data[14 * 3 + 2]).not.toBe(adobe.data[15 * 3 + 2]);
  });

  it('an RGB file (Adobe transform 0, or ids R, G, B) gives its samples as they are, not converted as YCbCr', async () => {
    for (const over of [{ adobe: 0 }, { ids: [82, 71, 66] }]) {
      const img = await decodeImageNode(file(over));
      expect([img.channels, ...Array.from(img.data.subarray(0, 6))]).toEqual([3, 200, 100, 50, 200, 100, 50]);
    }
  });

  it('a grey file decodes to its samples (jpeg-js gives them as RGB, as before)', async () => {
    const img = await decodeImageNode(file({}, 1));
    expect([img.width, img.height, img.channels]).toEqual([32, 16, 3]);
    expect(new Set(img.data)).toEqual(new Set([200]));
  });

  it('a file jpeg-js decodes but whose markers the check cannot walk (bytes FF 00 between segments) is refused, not decoded blind', async () => {
    const f = file({ h: 2, v: 2 });
    const dqtEnd = 2 + 4 + 65; // SOI, DQT (marker, length, 65 bytes)
    const odd = new Uint8Array([...f.subarray(0, dqtEnd), 0xff, 0x00, ...f.subarray(dqtEnd)]);
    expect(jpegSupport(odd)).toBeUndefined();
    const e = await refusal(odd);
    expect([e.code, e.reason]).toEqual(['E_IMAGE_PREPROCESSING', 'JPEG_LAYOUT']);
    expect(e.message).toMatch(/layout unknown/);
    // Bytes jpeg-js cannot decode either stay E_DTYPE
    expect((await refusal(new Uint8Array([...f.subarray(0, dqtEnd), 0x12, 0x34, ...f.subarray(dqtEnd)]))).code).toBe('E_DTYPE');
  });

  it('a SOF whose length field is not 8 + 3 Nf (libjpeg: JERR_BAD_LENGTH) is refused: the walk cannot skip bytes jpeg-js reads as markers (here an Adobe transform 1 hidden from the check)', async () => {
    const f = file({ ids: [82, 71, 66] }); // RGB by its ids: decoded without a colour transform
    const sof = f.indexOf(0xc0, 4) - 1;
    const len = (f[sof + 2]! << 8) | f[sof + 3]!;
    const adobe = [0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 1];
    const hidden = new Uint8Array([...f.subarray(0, sof + 2), (len + adobe.length) >> 8, (len + adobe.length) & 255, ...f.subarray(sof + 4, sof + 2 + len), ...adobe, ...f.subarray(sof + 2 + len)]);
    expect(jpegSupport(hidden)).toBeUndefined();
    const e = await refusal(hidden);
    expect([e.code, e.reason]).toEqual(['E_IMAGE_PREPROCESSING', 'JPEG_LAYOUT']);
  });

  it('a JFIF APP0 shorter than libjpeg reads (datalen < 14: not JFIF for jdmarker.c examine_app0) does not make an Adobe transform 0 file YCbCr', async () => {
    const f = file({ adobe: 0 });
    const shortJfif = [0xff, 0xe0, 0, 14, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1]; // 12 data bytes
    const b = new Uint8Array([...f.subarray(0, 2), ...shortJfif, ...f.subarray(2)]);
    expect(jpegFrame(b)?.jfif).toBe(false);
    expect(jpegSupport(b)).toEqual({ kind: 'rgb' });
    const img = await decodeImageNode(b);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([200, 100, 50]);
  });

  it('FF 00 is not a segment: the walk stops (layout unknown) instead of reading the next bytes as a length and landing on a frame header jpeg-js never sees', async () => {
    const real = file({ sampling: [[2, 2], [2, 1], [1, 1]] }); // a refused layout
    const fake = [0xff, 0xc0, 0, 17, 8, 0, 16, 0, 32, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 0xff, 0xda]; // 4:4:4 SOF, then SOS
    const body = new Array<number>(65533).fill(0);
    body.splice(65509 - 8, fake.length, ...fake); // the walk reads FF 00's "length" FF E1 and jumps to offset 65509
    const b = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0xff, 0xe1, 0xff, 0xff, ...body, ...real.subarray(2)]);
    expect(jpegSupport(b)).toBeUndefined();
    const e = await refusal(b);
    expect(e.code === 'E_DTYPE' || e.reason === 'JPEG_LAYOUT').toBe(true);
  });

  it('withoutAdobe cuts only the APP14 segment', () => {
    const plain = file({ h: 2, v: 2 }), adobe = file({ h: 2, v: 2, adobe: 1 });
    expect(Array.from(withoutAdobe(adobe))).toEqual(Array.from(plain));
    expect(withoutAdobe(plain)).toBe(plain);
  });
});
