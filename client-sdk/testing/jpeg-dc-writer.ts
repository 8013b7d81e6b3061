/**
 * Writes a baseline JPEG whose 8x8 blocks are flat (DC coefficient only), with
 * the chroma subsampling asked for, so a test knows every decoded sample by
 * hand: the quantisation table is all 8s and a block coded k decodes to
 * exactly 128 + k (DC = 8k, IDCT of a DC-only block = DC / 8). Tests only:
 * jpeg-js's encoder writes 4:4:4 only, and a decoder's chroma upsampling needs
 * 4:2:2 / 4:2:0 files.
 */

/** Per component (Y, Cb, Cr), the flat value of each block, row-major over its block grid. */
export interface FlatJpeg {
  width: number;
  height: number;
  /** Luma sampling factors: 1x1 (4:4:4), 2x1 (4:2:2), 2x2 (4:2:0); chroma is 1x1. */
  h: 1 | 2;
  v: 1 | 2;
  /** Block values 0..255 (multiples of 1), per component over ceil(size / 8) blocks of that component's plane, padded to whole MCUs. */
  blocks: [number[], number[], number[]];
}

class Bits {
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

const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];

/** The JPEG bytes. DC Huffman table: categories 0..11, each a 4-bit code equal to the category; AC table: EOB only, code '0'. */
export function flatJpeg(j: FlatJpeg): Uint8Array {
  const mcuW = 8 * j.h, mcuH = 8 * j.v;
  const mx = Math.ceil(j.width / mcuW), my = Math.ceil(j.height / mcuH);
  const bitsDc = new Array<number>(16).fill(0); bitsDc[3] = 12;
  const dht = [...seg(0xc4, [0x00, ...bitsDc, ...Array.from({ length: 12 }, (_, i) => i)]), ...seg(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00])];
  const sof = seg(0xc0, [8, j.height >> 8, j.height & 255, j.width >> 8, j.width & 255, 3, 1, (j.h << 4) | j.v, 0, 2, 0x11, 0, 3, 0x11, 0]);
  const sos = seg(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);
  const bits = new Bits();
  const pred = [0, 0, 0];
  const block = (c: number, v: number): void => {
    const k = v - 128, diff = k - pred[c]!;
    pred[c] = k;
    const s = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
    bits.put(s, 4);
    if (s > 0) bits.put(diff > 0 ? diff : diff + (1 << s) - 1, s);
    bits.put(0, 1); // EOB
  };
  const yw = mx * j.h; // luma blocks per row
  for (let r = 0; r < my; r++) {
    for (let c = 0; c < mx; c++) {
      for (let by = 0; by < j.v; by++) for (let bx = 0; bx < j.h; bx++) block(0, j.blocks[0][(r * j.v + by) * yw + c * j.h + bx]!);
      block(1, j.blocks[1][r * mx + c]!);
      block(2, j.blocks[2][r * mx + c]!);
    }
  }
  return new Uint8Array([0xff, 0xd8, ...seg(0xdb, [0, ...new Array<number>(64).fill(8)]), ...sof, ...dht, ...sos, ...bits.end(), 0xff, 0xd9]);
}
