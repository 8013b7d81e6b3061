/**
 * Writes a baseline JPEG whose 8x8 blocks are flat (DC coefficient only), with
 * the chroma subsampling asked for, so a test knows every decoded sample by
 * hand: the quantisation table is all 8s and a block coded k decodes to
 * exactly 128 + k (DC = 8k, IDCT of a DC-only block = DC / 8). Tests only:
 * jpeg-js's encoder writes 4:4:4 only, and a decoder's chroma upsampling needs
 * 4:2:2 / 4:2:0 files; the layout checks need 4:4:0, 4:1:1, CMYK / YCCK, RGB and
 * Adobe-marked files.
 */

/** Per component (Y, Cb, Cr; or 1, 2 or 4 components), the flat value of each block, row-major over its block grid. */
export interface FlatJpeg {
  width: number;
  height: number;
  /** Luma sampling factors: 1x1 (4:4:4), 2x1 (4:2:2), 2x2 (4:2:0), 1x2 (4:4:0); the other components 1x1 unless `sampling` says. */
  h: number;
  v: number;
  /** Block values 0..255 (multiples of 1), per component over its block grid (mcusX * h_c by mcusY * v_c blocks, whole MCUs). */
  blocks: number[][];
  /** Every component's (h, v), overriding h and v (e.g. 4:1:1 [[4, 1], [1, 1], [1, 1]], CMYK 4:2:0 with K full [[2, 2], [1, 1], [1, 1], [2, 2]]). */
  sampling?: [number, number][];
  /** Component ids in SOF (default 1, 2, 3, ...; 82, 71, 66 tells libjpeg RGB). */
  ids?: number[];
  /** An Adobe APP14 segment with this transform byte (0 RGB/CMYK, 1 YCbCr, 2 YCCK); none when absent. */
  adobe?: number;
  /** A JFIF APP0 segment. */
  jfif?: boolean;
}

/** The entropy-coded segment's bit writer (FF stuffed with 00, the last byte padded with 1s); also jpeg-coef-writer.ts's. */
export class Bits {
  bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flush();
    }
  }
  private flush(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0; this.n = 0;
  }
  end(): number[] {
    while (this.n !== 0) this.put(1, 1);
    return this.bytes;
  }
}

/** A marker segment: FF, marker, its big-endian length, the body. */
export const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];

/** The JPEG bytes. DC Huffman table: categories 0..11, each a 4-bit code equal to the category; AC table: EOB only, code '0'. */
export function flatJpeg(j: FlatJpeg): Uint8Array {
  const n = j.blocks.length;
  const samp = j.sampling ?? j.blocks.map((_, c) => (c === 0 ? [j.h, j.v] : [1, 1]) as [number, number]);
  const ids = j.ids ?? j.blocks.map((_, c) => c + 1);
  const maxH = Math.max(...samp.map((s) => s[0])), maxV = Math.max(...samp.map((s) => s[1]));
  const mx = Math.ceil(j.width / (8 * maxH)), my = Math.ceil(j.height / (8 * maxV));
  const bitsDc = new Array<number>(16).fill(0); bitsDc[3] = 12;
  const dht = [...seg(0xc4, [0x00, ...bitsDc, ...Array.from({ length: 12 }, (_, i) => i)]), ...seg(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00])];
  const sof = seg(0xc0, [8, j.height >> 8, j.height & 255, j.width >> 8, j.width & 255, n, ...samp.flatMap(([h, v], c) => [ids[c]!, (h << 4) | v, 0])]);
  const sos = seg(0xda, [n, ...ids.flatMap((id) => [id, 0x00]), 0, 63, 0]);
  const app = [
    ...(j.jfif ? seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]) : []),
    ...(j.adobe !== undefined ? seg(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, j.adobe]) : []),
  ];
  const bits = new Bits();
  const pred = new Array<number>(n).fill(0);
  const block = (c: number, v: number): void => {
    const k = v - 128, diff = k - pred[c]!;
    pred[c] = k;
    const s = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
    bits.put(s, 4);
    if (s > 0) bits.put(diff > 0 ? diff : diff + (1 << s) - 1, s);
    bits.put(0, 1); // EOB
  };
  if (n === 1) { // one component: a non-interleaved scan, one block per MCU over ceil(size / 8) blocks (T.81 A.2.2)
    for (let i = 0; i < Math.ceil(j.width / 8) * Math.ceil(j.height / 8); i++) block(0, j.blocks[0]![i]!);
  } else {
    for (let r = 0; r < my; r++) {
      for (let c = 0; c < mx; c++) {
        for (let k = 0; k < n; k++) {
          const [h, v] = samp[k]!;
          for (let by = 0; by < v; by++) for (let bx = 0; bx < h; bx++) block(k, j.blocks[k]![(r * v + by) * mx * h + c * h + bx]!);
        }
      }
    }
  }
  return new Uint8Array([0xff, 0xd8, ...app, ...seg(0xdb, [0, ...new Array<number>(64).fill(8)]), ...sof, ...dht, ...sos, ...bits.end(), 0xff, 0xd9]);
}
