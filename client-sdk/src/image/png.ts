/**
 * PNG decoding in pure JS (fflate's inflate), the same code in Node and in the
 * browser, so both give the pixels Pillow's Image.open gives:
 *  - every colour type and bit depth of PNG 1.2 (ISO/IEC 15948), Adam7 interlacing,
 *    PLTE / tRNS, chunk CRCs checked (as Pillow and pngjs do);
 *  - the colour of a fully transparent pixel is kept (a browser canvas premultiplies
 *    alpha and zeroes it; Pillow's convert('L' | 'RGB') and pngjs keep it);
 *  - grey below 8 bits is scaled by 255 / (2^d - 1) (Pillow's L;2 / L;4 unpackers, '1' -> L);
 *  - 16-bit samples are kept in `samples16` (RGBA), `data` holds their high bytes for
 *    display only: preprocess.ts reduces them as the model records (png16) or refuses.
 * A PNG's Exif orientation is reported (`orientation`, never applied here), as a JPEG's is, from where
 * Pillow 9.4 reads it (pngOrientationOf: the eXIf chunk, before or after IDAT; else a tEXt/zTXt
 * "Raw profile type exif"; else XMP's tiff:Orientation; repeated chunks as Pillow's info keeps them):
 * ImageOps.exif_transpose turns a PNG by it, so
 * preprocess.ts turns it when the model records `orientation: 'exif'`. Before, none was read and such a model
 * got the stored pixels, silently (bench/e2e-oracle.ts --inputs exif).
 */
import { Unzlib } from 'fflate';
import { InputError } from '../errors.js';
import { tiffOrientationTag } from '../../../protocol/image-orientation.js';
import type { RawImage } from './types.js';

/** A hostile file must not exhaust memory (X-rays are under 10 MP); decode-node.ts has the same limit for JPEG. */
const MAX_PIXELS = 100e6;
/** The filtered scanlines' bytes (16-bit RGBA at 100 MP would need 800 MB before the 8-bit copy): 512 MiB, about the JPEG path's memory. */
const MAX_RAW_BYTES = 2 ** 29;
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel of each colour type (0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA) and its allowed bit depths. */
const LAYOUT: Record<number, { samples: number; depths: number[] }> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] },
  2: { samples: 3, depths: [8, 16] },
  3: { samples: 1, depths: [1, 2, 4, 8] },
  4: { samples: 2, depths: [8, 16] },
  6: { samples: 4, depths: [8, 16] },
};
/** Adam7: first column and row, column and row steps of the seven passes. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

const fail = (why: string, cause?: unknown): never => {
  throw new InputError('E_DTYPE', `image: the PNG could not be decoded (${why})`, cause === undefined ? {} : { cause });
};

let crcTable: Uint32Array | undefined;
function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Header { width: number; height: number; depth: number; colorType: number; interlace: number }

/** An eXIf or text chunk (tEXt, zTXt, iTXt) and whether it came before the first IDAT. */
interface Meta { type: string; data: Uint8Array; early: boolean }

interface Chunks { h: Header; plte?: Uint8Array; trns?: Uint8Array; idat: Uint8Array; meta: Meta[] }

function readChunks(b: Uint8Array): Chunks {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 8 || SIGNATURE.some((v, i) => b[i] !== v)) fail('not a PNG signature');
  let off = 8, h: Header | undefined, plte: Uint8Array | undefined, trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  const meta: Meta[] = [];
  for (;;) {
    if (off + 12 > b.length) fail('truncated before IEND');
    const len = dv.getUint32(off);
    const type = String.fromCharCode(b[off + 4]!, b[off + 5]!, b[off + 6]!, b[off + 7]!);
    if (off + 12 + len > b.length) fail(`chunk ${type} is truncated`);
    const data = b.subarray(off + 8, off + 8 + len);
    if (crc32(b.subarray(off + 4, off + 8 + len)) !== dv.getUint32(off + 8 + len)) fail(`bad CRC in chunk ${type}`);
    off += 12 + len;
    if (!h && type !== 'IHDR') fail('IHDR is not the first chunk');
    if (type === 'IHDR') {
      if (h || len !== 13) fail('bad IHDR');
      const d = new DataView(data.buffer, data.byteOffset, 13);
      h = { width: d.getUint32(0), height: d.getUint32(4), depth: data[8]!, colorType: data[9]!, interlace: data[12]! };
      const layout = LAYOUT[h.colorType];
      if (!layout || !layout.depths.includes(h.depth)) fail(`colour type ${h.colorType} with bit depth ${h.depth} is not valid PNG`);
      if (data[10] !== 0 || data[11] !== 0 || h.interlace > 1) fail('unknown compression, filter or interlace method');
      if (!(h.width > 0 && h.height > 0) || h.width * h.height > MAX_PIXELS) fail(`${h.width} x ${h.height} pixels is empty or over ${MAX_PIXELS / 1e6} MP`);
      if (h.height * (1 + Math.ceil((h.width * layout.samples * h.depth) / 8)) > MAX_RAW_BYTES) fail(`${h.width} x ${h.height} pixels at ${layout.samples} x ${h.depth} bits needs more than ${MAX_RAW_BYTES / 2 ** 20} MiB`);
    } else if (type === 'PLTE') {
      if (len % 3 !== 0 || len === 0 || len > 768) fail('bad PLTE');
      plte = data;
    } else if (type === 'tRNS') trns = data;
    else if (type === 'eXIf' || type === 'tEXt' || type === 'zTXt' || type === 'iTXt') meta.push({ type, data, early: idat.length === 0 });
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    else if (!(b[off - len - 8]! & 0x20)) fail(`unknown critical chunk ${type}`);
  }
  if (idat.length === 0) fail('no IDAT');
  if (h!.colorType === 3 && !plte) fail('palette image without PLTE');
  const all = new Uint8Array(idat.reduce((a, c) => a + c.length, 0));
  let p = 0;
  for (const c of idat) { all.set(c, p); p += c.length; }
  return { h: h!, ...(plte ? { plte } : {}), ...(trns ? { trns } : {}), idat: all, meta };
}

/** Undo the scanline filters (PNG 1.2 section 9) of one pass in place; `raw` holds rows of 1 + rowBytes bytes. */
function unfilter(raw: Uint8Array, start: number, rows: number, rowBytes: number, bpp: number): void {
  for (let y = 0; y < rows; y++) {
    const cur = start + y * (rowBytes + 1) + 1, prev = cur - rowBytes - 1, ft = raw[cur - 1]!, first = y === 0;
    switch (ft) {
      case 0: break;
      case 1: for (let i = bpp; i < rowBytes; i++) raw[cur + i] = (raw[cur + i]! + raw[cur + i - bpp]!) & 0xff; break;
      case 2: if (!first) for (let i = 0; i < rowBytes; i++) raw[cur + i] = (raw[cur + i]! + raw[prev + i]!) & 0xff; break;
      case 3:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? raw[cur + i - bpp]! : 0, b = first ? 0 : raw[prev + i]!;
          raw[cur + i] = (raw[cur + i]! + ((a + b) >>> 1)) & 0xff;
        }
        break;
      case 4:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? raw[cur + i - bpp]! : 0, b = first ? 0 : raw[prev + i]!, c = first || i < bpp ? 0 : raw[prev + i - bpp]!;
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          raw[cur + i] = (raw[cur + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
        }
        break;
      default: fail(`unknown filter type ${ft}`);
    }
  }
}

/** The samples of one unfiltered row (n = pixels x samples per pixel) at `d` bits into `s`. */
function unpack(raw: Uint8Array, row: number, n: number, d: number, s: Int32Array): void {
  if (d === 8) for (let j = 0; j < n; j++) s[j] = raw[row + j]!;
  else if (d === 16) for (let j = 0; j < n; j++) s[j] = (raw[row + 2 * j]! << 8) | raw[row + 2 * j + 1]!;
  else {
    const max = (1 << d) - 1;
    for (let j = 0; j < n; j++) s[j] = (raw[row + ((j * d) >> 3)]! >> (8 - d - ((j * d) & 7))) & max;
  }
}

/**
 * Inflate with fflate, at most `expected` bytes kept: the input goes in 64 KiB at a time and
 * inflating stops once the image is full (a stream with more data is truncated, as node:zlib's
 * maxOutputLength caps it; an inflation bomb grows by at most one step's output). Fewer bytes
 * come back when the stream ends early. (unzlibSync with `out` would return the whole buffer,
 * zeros included, for a stream cut short: a truncated PNG would silently turn black.)
 */
function inflateCapped(z: Uint8Array, expected: number, step = 1 << 16): Uint8Array {
  const out = new Uint8Array(expected);
  let n = 0, full = false;
  const u = new Unzlib((chunk) => {
    const k = Math.min(chunk.length, expected - n);
    out.set(chunk.subarray(0, k), n);
    n += k;
    if (k < chunk.length) full = true;
  });
  for (let i = 0; !full && (i < z.length || i === 0); i += step) u.push(z.subarray(i, i + step), i + step >= z.length);
  return n === expected ? out : out.subarray(0, n);
}

/** Latin-1 text of bytes (in slices: a spread of a large array overflows the stack). */
function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 8192)));
  return s;
}

/** Most bytes a zTXt / compressed iTXt may inflate to (Pillow 9.4's MAX_TEXT_CHUNK: beyond it Pillow refuses the chunk). */
const MAX_TEXT_BYTES = 1 << 20;
/** Most bytes inflated for text chunks in one file (Pillow's MAX_TEXT_MEMORY); past it the rest are not read. */
const MAX_TEXT_TOTAL = 64 << 20;

/** A chunk's keyword when it is `key` (compared byte by byte: a chunk of any other keyword is never decoded). */
function hasKey(d: Uint8Array, key: string): boolean {
  if (d.length <= key.length || d[key.length] !== 0) return false;
  for (let i = 0; i < key.length; i++) if (d[i] !== key.charCodeAt(i)) return false;
  return true;
}

/**
 * A text chunk's text as Pillow 9.4's PngStream stores it, or undefined where Pillow stores none (or refuses the
 * file): tEXt Latin-1; zTXt Latin-1 after inflating (method 0 only); iTXt UTF-8 (strict, language tag and
 * translated keyword too; compressed with method 0 only). Inflating stops past MAX_TEXT_BYTES (refused: Pillow
 * raises) and past `budget.left` bytes for the file (a decompression bomb in many chunks).
 */
function textOf(c: Meta, key: string, budget: { left: number }): string | undefined {
  const d = c.data, z = key.length;
  const inflateText = (zs: Uint8Array): Uint8Array | undefined => {
    if (budget.left <= 0) return undefined;
    const t = inflateCapped(zs, Math.min(MAX_TEXT_BYTES, budget.left) + 1, 1024);
    budget.left -= t.length;
    return t.length > MAX_TEXT_BYTES || budget.left < 0 ? undefined : t;
  };
  try {
    if (c.type === 'tEXt') return latin1(d.subarray(z + 1));
    if (c.type === 'zTXt') {
      if (d.length < z + 2 || d[z + 1] !== 0) return undefined;
      const t = inflateText(d.subarray(z + 2));
      return t && latin1(t);
    }
    // iTXt: keyword, compression flag and method, language tag, translated keyword, UTF-8 text
    if (d.length < z + 3) return undefined;
    const lang = d.indexOf(0, z + 3), tk = lang < 0 ? -1 : d.indexOf(0, lang + 1);
    if (tk < 0) return undefined;
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    utf8.decode(d.subarray(z + 3, tk));
    const cf = d[z + 1]!, cm = d[z + 2]!;
    if (cf !== 0 && cm !== 0) return undefined;
    const body = cf !== 0 ? inflateText(d.subarray(tk + 1)) : d.subarray(tk + 1);
    return body && utf8.decode(body);
  } catch {
    return undefined;
  }
}

/** Python's bytes.fromhex (ASCII whitespace between pairs only); undefined where it raises. */
function fromHex(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length >> 1);
  const v = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);
  let n = 0;
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) { i++; continue; }
    const hi = v(c), lo = i + 1 < s.length ? v(s.charCodeAt(i + 1)) : -1;
    if (hi < 0 || lo < 0) return undefined;
    out[n++] = 16 * hi + lo;
    i += 2;
  }
  return out.subarray(0, n);
}

/**
 * The Exif orientation that ImageOps.exif_transpose(Image.open(f)) applies in Pillow 9.4 (PngImageFile.getexif):
 * Pillow's info holds the chunks before IDAT, or all of them when none of those is an eXIf (getexif then loads the
 * image); a later chunk of a kind (or keyword) replaces an earlier one unless Pillow skips it (textOf). The eXIf
 * chunk's TIFF; without one, a tEXt/zTXt/iTXt "Raw profile type exif" (ImageMagick's: hex after three header
 * lines, "Exif\0\0" stripped); then, if that has no orientation tag (one of 1 keeps 1), XMP's tiff:Orientation
 * in an "XML:com.adobe.xmp" text chunk. 1 when none, or a value outside 2..8 (exif_transpose turns nothing).
 * Only the chunks of these two keywords are decoded, latest first.
 */
function pngOrientationOf(meta: Meta[]): number {
  const view = meta.some((c) => c.type === 'eXIf' && c.early) ? meta.filter((c) => c.early) : meta;
  const budget = { left: MAX_TEXT_TOTAL };
  const lastText = (key: string): string | undefined => {
    for (let i = view.length - 1; i >= 0; i--) {
      const c = view[i]!;
      if (c.type === 'eXIf' || !hasKey(c.data, key)) continue;
      const t = textOf(c, key, budget);
      if (t !== undefined) return t;
    }
    return undefined;
  };
  let tiff: Uint8Array | undefined;
  for (let i = view.length - 1; i >= 0 && !tiff; i--) if (view[i]!.type === 'eXIf') tiff = view[i]!.data;
  const raw = tiff ? undefined : lastText('Raw profile type exif');
  if (raw !== undefined) {
    const bytes = fromHex(raw.split('\n').slice(3).join(''));
    if (bytes) {
      const exifHead = bytes.length >= 6 && latin1(bytes.subarray(0, 6)) === 'Exif\0\0';
      tiff = exifHead ? bytes.subarray(6) : bytes;
    }
  }
  const tag = tiff ? tiffOrientationTag(tiff) : undefined;
  const o = tag !== undefined ? tag : Number(/tiff:Orientation(="|>)([0-9])/.exec(lastText('XML:com.adobe.xmp') ?? '')?.[2] ?? 1);
  return o >= 1 && o <= 8 ? o : 1;
}

/** The Exif orientation of PNG bytes as Pillow reads it (pngOrientationOf), without decoding the pixels; E_DTYPE as decodePng for a broken file. */
export function pngExifOrientation(b: Uint8Array): number {
  return pngOrientationOf(readChunks(b).meta);
}

/**
 * A faster inflate for the platform (Node: node:zlib). It must give fflate's bytes or
 * undefined (then fflate decides, so both platforms accept and refuse the same files).
 */
export type Inflate = (zlib: Uint8Array, expected: number) => Uint8Array | undefined;

/** Decode PNG bytes to RGBA (see the file comment). Every failure is an InputError E_DTYPE. */
export function decodePng(b: Uint8Array, inflate?: Inflate): RawImage {
  const { h, plte, trns, idat, meta } = readChunks(b);
  const orientation = pngOrientationOf(meta);
  const { width: W, height: H, depth: d, colorType: ct } = h;
  const spp = LAYOUT[ct]!.samples, bpp = Math.max(1, (spp * d) >> 3);
  const passes = (h.interlace ? ADAM7 : [[0, 0, 1, 1]] as const).map(([x0, y0, dx, dy]) => {
    const w = W > x0 ? Math.ceil((W - x0) / dx) : 0, n = H > y0 ? Math.ceil((H - y0) / dy) : 0;
    return { x0, y0, dx, dy, w, n, rowBytes: Math.ceil((w * spp * d) / 8) };
  });
  const expected = passes.reduce((a, p) => a + (p.w > 0 ? p.n * (p.rowBytes + 1) : 0), 0);
  let raw: Uint8Array;
  try {
    raw = inflate?.(idat, expected) ?? inflateCapped(idat, expected);
  } catch (e) {
    return fail('corrupt image data', e);
  }
  if (raw.length < expected) fail('image data is truncated');
  const wide = d === 16, max = (1 << d) - 1;
  const out = new Uint8Array(W * H * 4), out16 = wide ? new Uint16Array(W * H * 4) : undefined;
  const tv = trns && trns.length >= 2 ? new DataView(trns.buffer, trns.byteOffset, trns.length) : undefined;
  const key = tv && ct === 0 ? [tv.getUint16(0)] : tv && ct === 2 && trns!.length >= 6 ? [tv.getUint16(0), tv.getUint16(2), tv.getUint16(4)] : undefined;
  const s = new Int32Array(W * spp);
  const scale = d < 8 ? 255 / max : 1; // grey below 8 bits: Pillow's L;2 / L;4 unpackers, '1' -> L
  let start = 0;
  for (const p of passes) {
    if (p.w === 0 || p.n === 0) continue;
    unfilter(raw, start, p.n, p.rowBytes, bpp);
    for (let y = 0; y < p.n; y++) {
      unpack(raw, start + y * (p.rowBytes + 1) + 1, p.w * spp, d, s);
      const o0 = 4 * ((p.y0 + y * p.dy) * W + p.x0), step = 4 * p.dx;
      const px = out16 ?? out;
      switch (ct) {
        case 0:
          for (let x = 0, o = o0; x < p.w; x++, o += step) {
            const v = s[x]!;
            px[o] = px[o + 1] = px[o + 2] = v * scale;
            px[o + 3] = key && v === key[0] ? 0 : max * scale;
          }
          break;
        case 2:
          for (let x = 0, o = o0; x < p.w; x++, o += step) {
            const r = s[3 * x]!, g = s[3 * x + 1]!, bl = s[3 * x + 2]!;
            px[o] = r; px[o + 1] = g; px[o + 2] = bl;
            px[o + 3] = key && r === key[0] && g === key[1] && bl === key[2] ? 0 : max;
          }
          break;
        case 3:
          for (let x = 0, o = o0; x < p.w; x++, o += step) {
            const i = s[x]!;
            if (3 * i + 2 >= plte!.length) fail(`a palette index is beyond the palette of ${plte!.length / 3} colours`);
            px[o] = plte![3 * i]!; px[o + 1] = plte![3 * i + 1]!; px[o + 2] = plte![3 * i + 2]!;
            px[o + 3] = trns && i < trns.length ? trns[i]! : 255;
          }
          break;
        case 4:
          for (let x = 0, o = o0; x < p.w; x++, o += step) { px[o] = px[o + 1] = px[o + 2] = s[2 * x]!; px[o + 3] = s[2 * x + 1]!; }
          break;
        default:
          for (let x = 0, o = o0; x < p.w; x++, o += step) { px[o] = s[4 * x]!; px[o + 1] = s[4 * x + 1]!; px[o + 2] = s[4 * x + 2]!; px[o + 3] = s[4 * x + 3]!; }
      }
    }
    start += p.n * (p.rowBytes + 1);
  }
  if (out16) for (let i = 0; i < out.length; i++) out[i] = out16[i]! >>> 8;
  return { width: W, height: H, channels: 4, data: out, ...(out16 ? { samples16: out16, grey16: ct === 0 } : {}), ...(orientation !== 1 ? { orientation } : {}) };
}
