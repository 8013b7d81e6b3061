/*
   Copyright 2011 notmasteryet

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/
/*
   jpeg-js (npm jpeg-js 0.4.4), whose lib/decoder.js this file is taken from, is
   distributed under this licence (its contributors' changes to pdf.js's code):

   Copyright (c) 2014, Eugene Ware
   All rights reserved.

   Redistribution and use in source and binary forms, with or without
   modification, are permitted provided that the following conditions are met:

   1. Redistributions of source code must retain the above copyright
      notice, this list of conditions and the following disclaimer.
   2. Redistributions in binary form must reproduce the above copyright
      notice, this list of conditions and the following disclaimer in the
      documentation and/or other materials provided with the distribution.
   3. Neither the name of Eugene Ware nor the names of its contributors
      may be used to endorse or promote products derived from this software
      without specific prior written permission.

   THIS SOFTWARE IS PROVIDED BY EUGENE WARE ''AS IS'' AND ANY
   EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
   WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
   DISCLAIMED. IN NO EVENT SHALL EUGENE WARE BE LIABLE FOR ANY
   DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES
   (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
   LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND
   ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
   (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
   SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
*/
/**
 * The SDK's Node JPEG decoder: jpeg-js 0.4.4's lib/decoder.js (npm jpeg-js
 * 0.4.4, from pdf.js: pdf.js's Apache-2.0 header and the jpeg-js package's
 * BSD-3-Clause licence above, client-sdk/NOTICE.md) brought into the SDK with
 * types, its inverse DCT replaced by libjpeg's islow (jpeg-idct.ts), so that a
 * JPEG gives libjpeg's (Pillow's) samples bit for bit instead of pdf.js's
 * rounding. Everything else as in jpeg-js 0.4.4: the marker parser (its
 * tolerance of fill bytes, a lost FF before a marker, one malformed APP0/APP1),
 * the limits (maxResolutionInMP, maxMemoryUsageInMB over the same allocations;
 * plus maxScans and singleFrame, which jpeg-js lacks, off unless given), the errors, getData /
 * copyToImageData (a grey image comes out as RGB, a 3 or 4 component image with
 * jpeg-js's float colour transform unless colorTransform is false). Entropy
 * decoding: jpeg-scan.ts. Only what decode-node.ts uses is kept (no XHR load,
 * always typed arrays).
 */
import { idctIslow } from './jpeg-idct.js';
import { buildHuffmanTable, dctZigZag, decodeScan, type HuffmanNode, type JpegComponent, type JpegFrameState } from './jpeg-scan.js';

export interface JpegDecodeOptions {
  /** undefined: jpeg-js's choice from the colour model (3 components: transform; an Adobe transform code forces it). */
  colorTransform?: boolean;
  formatAsRGBA?: boolean;
  tolerantDecoding?: boolean;
  maxResolutionInMP?: number;
  maxMemoryUsageInMB?: number;
  /** Not in jpeg-js (default: no limit, as jpeg-js): more SOS markers than this is an error before the next scan is decoded (each scan costs a pass over its components' blocks, however few bytes it has). */
  maxScans?: number;
  /** Not in jpeg-js (default false, as jpeg-js, which refuses a second frame only after parsing the file): a second frame header is an error at once, before its blocks are allocated. */
  singleFrame?: boolean;
}

export interface JpegDecoded { width: number; height: number; exifBuffer?: Uint8Array; comments?: string[]; data: Uint8Array }

/** One block's IDCT: coefficients and table (natural order), scratch workspace, output plane, offset, row stride. */
export type BlockIdct = (coef: Int32Array, qt: Int32Array, ws: Float64Array, out: Uint8Array, offset: number, stride: number) => void;

interface Decoded { lines: Uint8Array; stride: number; scaleX: number; scaleY: number }

/** jpeg-js's memory cap, per decode (jpeg-js keeps it in module state, reset at every decode). */
class Budget {
  private total = 0;
  constructor(private readonly max: number) {}
  request(increase = 0): void {
    const t = this.total + increase;
    if (t > this.max) throw new Error(`maxMemoryUsageInMB limit exceeded by at least ${Math.ceil((t - this.max) / 1024 / 1024)}MB`);
    this.total = t;
  }
}

/** jpeg-js buildComponentData with libjpeg's islow IDCT: the component's samples, blocksPerLine * 8 wide. */
function buildComponentData(component: JpegComponent, budget: Budget, idct: BlockIdct): { lines: Uint8Array; stride: number } {
  const blocksPerLine = component.blocksPerLine, blocksPerColumn = component.blocksPerColumn;
  const stride = blocksPerLine << 3;
  budget.request(stride * blocksPerColumn * 8);
  const lines = new Uint8Array(stride * blocksPerColumn * 8);
  const qt = component.quantizationTable;
  const ws = new Float64Array(64);
  for (let blockRow = 0; blockRow < blocksPerColumn; blockRow++) {
    // A component whose table was never defined: jpeg-js's dequantisation reads the undefined table (its TypeError)
    if (!qt) throw new TypeError("Cannot read properties of undefined (reading '0')");
    const row = component.blocks[blockRow]!;
    for (let blockCol = 0; blockCol < blocksPerLine; blockCol++) idct(row[blockCol]!, qt, ws, lines, (blockRow << 3) * stride + (blockCol << 3), stride);
  }
  return { lines, stride };
}

function prepareComponents(frame: JpegFrameState, budget: Budget): void {
  // According to the JPEG standard, the sampling factor must be between 1 and 4
  let maxH = 1, maxV = 1;
  for (const component of Object.values(frame.components)) {
    if (maxH < component.h) maxH = component.h;
    if (maxV < component.v) maxV = component.v;
  }
  const mcusPerLine = Math.ceil(frame.samplesPerLine / 8 / maxH), mcusPerColumn = Math.ceil(frame.scanLines / 8 / maxV);
  for (const component of Object.values(frame.components)) {
    const blocksPerLine = Math.ceil(Math.ceil(frame.samplesPerLine / 8) * component.h / maxH);
    const blocksPerColumn = Math.ceil(Math.ceil(frame.scanLines / 8) * component.v / maxV);
    const blocksPerLineForMcu = mcusPerLine * component.h, blocksPerColumnForMcu = mcusPerColumn * component.v;
    // Each block is a Int32Array of length 64 (4 x 64 = 256 bytes)
    budget.request(blocksPerColumnForMcu * blocksPerLineForMcu * 256);
    const blocks: Int32Array[][] = [];
    for (let i = 0; i < blocksPerColumnForMcu; i++) {
      const row: Int32Array[] = [];
      for (let j = 0; j < blocksPerLineForMcu; j++) row.push(new Int32Array(64));
      blocks.push(row);
    }
    component.blocksPerLine = blocksPerLine;
    component.blocksPerColumn = blocksPerColumn;
    component.blocks = blocks;
  }
  frame.maxH = maxH; frame.maxV = maxV; frame.mcusPerLine = mcusPerLine; frame.mcusPerColumn = mcusPerColumn;
}

interface Parsed { width: number; height: number; adobe: { transformCode: number } | null; components: Decoded[]; exifBuffer?: Uint8Array; comments: string[] }

/** jpeg-js's parse: the markers, the scans (jpeg-scan.ts), then every component's samples. */
function parse(data: Uint8Array, opts: Required<Omit<JpegDecodeOptions, 'colorTransform'>>, budget: Budget, idct: BlockIdct): Parsed {
  let scans = 0;
  const maxResolutionInPixels = opts.maxResolutionInMP * 1000 * 1000;
  let offset = 0;
  const readUint16 = (): number => { const value = (data[offset]! << 8) | data[offset + 1]!; offset += 2; return value; };
  const readDataBlock = (): Uint8Array => { const length = readUint16(); const array = data.subarray(offset, offset + length - 2); offset += array.length; return array; };
  let adobe: Parsed['adobe'] = null, frame: JpegFrameState | undefined, resetInterval: number | undefined, exifBuffer: Uint8Array | undefined;
  const quantizationTables: Int32Array[] = [], frames: JpegFrameState[] = [];
  const huffmanTablesAC: HuffmanNode[] = [], huffmanTablesDC: HuffmanNode[] = [];
  const comments: string[] = [];
  let malformedDataOffset = -1;
  let fileMarker = readUint16();
  if (fileMarker !== 0xffd8) throw new Error('SOI not found'); // SOI (Start of Image)
  fileMarker = readUint16();
  while (fileMarker !== 0xffd9) { // EOI (End of image)
    if (fileMarker === 0xff00) {
      // jpeg-js: nothing to do
    } else if ((fileMarker >= 0xffe0 && fileMarker <= 0xffef) || fileMarker === 0xfffe) { // APPn, COM
      const appData = readDataBlock();
      if (fileMarker === 0xfffe) comments.push(String.fromCharCode(...appData));
      if (fileMarker === 0xffe1 && appData[0] === 0x45 && appData[1] === 0x78 && appData[2] === 0x69 && appData[3] === 0x66 && appData[4] === 0) exifBuffer = appData.subarray(5, appData.length);
      if (fileMarker === 0xffee && appData[0] === 0x41 && appData[1] === 0x64 && appData[2] === 0x6f && appData[3] === 0x62 && appData[4] === 0x65 && appData[5] === 0) adobe = { transformCode: appData[11]! };
    } else if (fileMarker === 0xffdb) { // DQT (Define Quantization Tables)
      const quantizationTablesEnd = readUint16() + offset - 2;
      while (offset < quantizationTablesEnd) {
        const quantizationTableSpec = data[offset++]!;
        budget.request(64 * 4);
        const tableData = new Int32Array(64);
        if ((quantizationTableSpec >> 4) === 0) { // 8 bit values
          for (let j = 0; j < 64; j++) tableData[dctZigZag[j]!] = data[offset++]!;
        } else if ((quantizationTableSpec >> 4) === 1) { // 16 bit
          for (let j = 0; j < 64; j++) tableData[dctZigZag[j]!] = readUint16();
        } else throw new Error('DQT: invalid table spec');
        quantizationTables[quantizationTableSpec & 15] = tableData;
      }
    } else if (fileMarker === 0xffc0 || fileMarker === 0xffc1 || fileMarker === 0xffc2) { // SOF0/1/2
      if (opts.singleFrame && frames.length > 0) throw new Error('only single frame JPEGs supported');
      readUint16(); // skip data length
      const f: JpegFrameState = { extended: fileMarker === 0xffc1, progressive: fileMarker === 0xffc2, precision: data[offset++]!, scanLines: readUint16(), samplesPerLine: readUint16(), components: {}, componentsOrder: [], maxH: 0, maxV: 0, mcusPerLine: 0, mcusPerColumn: 0 };
      frame = f;
      const pixelsInFrame = f.scanLines * f.samplesPerLine;
      if (pixelsInFrame > maxResolutionInPixels) throw new Error(`maxResolutionInMP limit exceeded by ${Math.ceil((pixelsInFrame - maxResolutionInPixels) / 1e6)}MP`);
      const componentsCount = data[offset++]!;
      for (let i = 0; i < componentsCount; i++) {
        const componentId = data[offset]!, h = data[offset + 1]! >> 4, v = data[offset + 1]! & 15, qId = data[offset + 2]!;
        if (h <= 0 || v <= 0) throw new Error('Invalid sampling factor, expected values above 0');
        f.componentsOrder.push(componentId);
        f.components[componentId] = { h, v, quantizationIdx: qId, blocksPerLine: 0, blocksPerColumn: 0, blocks: [], pred: 0 };
        offset += 3;
      }
      prepareComponents(f, budget);
      frames.push(f);
    } else if (fileMarker === 0xffc4) { // DHT (Define Huffman Tables)
      const huffmanLength = readUint16();
      for (let i = 2; i < huffmanLength;) {
        const huffmanTableSpec = data[offset++]!;
        const codeLengths = new Uint8Array(16);
        let codeLengthSum = 0;
        for (let j = 0; j < 16; j++, offset++) codeLengthSum += (codeLengths[j] = data[offset]!);
        budget.request(16 + codeLengthSum);
        const huffmanValues = new Uint8Array(codeLengthSum);
        for (let j = 0; j < codeLengthSum; j++, offset++) huffmanValues[j] = data[offset]!;
        i += 17 + codeLengthSum;
        ((huffmanTableSpec >> 4) === 0 ? huffmanTablesDC : huffmanTablesAC)[huffmanTableSpec & 15] = buildHuffmanTable(codeLengths, huffmanValues);
      }
    } else if (fileMarker === 0xffdd) { // DRI (Define Restart Interval)
      readUint16(); // skip data length
      resetInterval = readUint16();
    } else if (fileMarker === 0xffdc) { // Number of Lines marker: ignored (jpeg-js)
      readUint16();
      readUint16();
    } else if (fileMarker === 0xffda) { // SOS (Start of Scan)
      if (++scans > opts.maxScans) throw new Error(`maxScans limit exceeded (more than ${opts.maxScans} scans)`);
      readUint16(); // scan length
      const selectorsCount = data[offset++]!;
      const components: JpegComponent[] = [];
      for (let i = 0; i < selectorsCount; i++) {
        // jpeg-js: a scan before any frame, or naming a component the frame lacks, is a TypeError
        const component = (frame as JpegFrameState).components[data[offset++]!]!;
        const tableSpec = data[offset++]!;
        component.huffmanTableDC = huffmanTablesDC[tableSpec >> 4]!;
        component.huffmanTableAC = huffmanTablesAC[tableSpec & 15]!;
        components.push(component);
      }
      const spectralStart = data[offset++]!, spectralEnd = data[offset++]!, successiveApproximation = data[offset++]!;
      offset += decodeScan(data, offset, frame as JpegFrameState, components, resetInterval, spectralStart, spectralEnd, successiveApproximation >> 4, successiveApproximation & 15, opts.tolerantDecoding);
    } else if (fileMarker === 0xffff) { // Fill bytes
      if (data[offset] !== 0xff) offset--; // Avoid skipping a valid marker.
    } else if (data[offset - 3] === 0xff && data[offset - 2]! >= 0xc0 && data[offset - 2]! <= 0xfe) {
      // could be incorrect encoding -- last 0xFF byte of the previous block was eaten by the encoder
      offset -= 3;
    } else {
      let recovered = false;
      if (fileMarker === 0xe0 || fileMarker === 0xe1) {
        // Recover from malformed APP1 markers popular in some phone models (jpeg-js issue 82)
        if (malformedDataOffset !== -1) throw new Error(`first unknown JPEG marker at offset ${malformedDataOffset.toString(16)}, second unknown JPEG marker ${fileMarker.toString(16)} at offset ${(offset - 1).toString(16)}`);
        malformedDataOffset = offset - 1;
        const nextOffset = readUint16();
        if (data[offset + nextOffset - 2] === 0xff) { offset += nextOffset - 2; recovered = true; }
      }
      if (!recovered) throw new Error('unknown JPEG marker ' + fileMarker.toString(16));
    }
    fileMarker = readUint16();
  }
  if (frames.length !== 1) throw new Error('only single frame JPEGs supported');
  const f = frame as JpegFrameState;
  // set each frame's components quantization table
  for (const c of Object.values(f.components)) { c.quantizationTable = quantizationTables[c.quantizationIdx!]; delete c.quantizationIdx; }
  const out: Decoded[] = f.componentsOrder.map((id) => {
    const component = f.components[id]!;
    return { ...buildComponentData(component, budget, idct), scaleX: component.h / f.maxH, scaleY: component.v / f.maxV };
  });
  return { width: f.samplesPerLine, height: f.scanLines, adobe, components: out, comments, ...(exifBuffer ? { exifBuffer } : {}) };
}

const clampTo8bit = (a: number): number => (a < 0 ? 0 : a > 255 ? 255 : a);

/** jpeg-js getData(width, height) at the image's own size: the components interleaved, colour-transformed as jpeg-js decides. */
function getData(p: Parsed, opts: JpegDecodeOptions, budget: Budget): Uint8Array {
  const { width, height } = p;
  const scaleX = p.width / width, scaleY = p.height / height;
  const n = p.components.length;
  const dataLength = width * height * n;
  budget.request(dataLength);
  const data = new Uint8Array(dataLength);
  if (n < 1 || n > 4) throw new Error('Unsupported color mode');
  if (n === 4 && !p.adobe) throw new Error('Unsupported color mode (4 components)');
  // 3 components: transform by default; 4: not by default; an Adobe transform code forces it; else the option decides
  let colorTransform = n === 3;
  if (p.adobe && p.adobe.transformCode) colorTransform = true;
  else if (opts.colorTransform !== undefined) colorTransform = !!opts.colorTransform;
  const cs = p.components;
  const xIdx = cs.map((c) => Int32Array.from({ length: width }, (_, x) => 0 | (x * c.scaleX * scaleX)));
  let offset = 0;
  for (let y = 0; y < height; y++) {
    const rows = cs.map((c) => (0 | (y * c.scaleY * scaleY)) * c.stride);
    if (n === 1) {
      const l0 = cs[0]!.lines, r0 = rows[0]!, x0 = xIdx[0]!;
      for (let x = 0; x < width; x++) data[offset++] = l0[r0 + x0[x]!]!;
      continue;
    }
    if (n === 3 && !colorTransform) {
      const l0 = cs[0]!.lines, l1 = cs[1]!.lines, l2 = cs[2]!.lines, r0 = rows[0]!, r1 = rows[1]!, r2 = rows[2]!, x0 = xIdx[0]!, x1 = xIdx[1]!, x2 = xIdx[2]!;
      for (let x = 0; x < width; x++) { data[offset++] = l0[r0 + x0[x]!]!; data[offset++] = l1[r1 + x1[x]!]!; data[offset++] = l2[r2 + x2[x]!]!; }
      continue;
    }
    if (n === 2) {
      for (let x = 0; x < width; x++) for (let k = 0; k < n; k++) data[offset++] = cs[k]!.lines[rows[k]! + xIdx[k]![x]!]!;
      continue;
    }
    for (let x = 0; x < width; x++) {
      const v = (k: number): number => cs[k]!.lines[rows[k]! + xIdx[k]![x]!]!;
      if (n === 4 && !colorTransform) { // CMYK: jpeg-js stores 255 - each
        data[offset++] = 255 - v(0); data[offset++] = 255 - v(1); data[offset++] = 255 - v(2); data[offset++] = 255 - v(3);
        continue;
      }
      const Y = v(0), Cb = v(1), Cr = v(2);
      if (n === 3) {
        data[offset++] = clampTo8bit(Y + 1.402 * (Cr - 128));
        data[offset++] = clampTo8bit(Y - 0.3441363 * (Cb - 128) - 0.71413636 * (Cr - 128));
        data[offset++] = clampTo8bit(Y + 1.772 * (Cb - 128));
        continue;
      }
      // YCCK: C = 255 - clamp(R) etc., stored as 255 - C, and 255 - K (jpeg-js)
      const C = 255 - clampTo8bit(Y + 1.402 * (Cr - 128));
      const M = 255 - clampTo8bit(Y - 0.3441363 * (Cb - 128) - 0.71413636 * (Cr - 128));
      const Ye = 255 - clampTo8bit(Y + 1.772 * (Cb - 128));
      data[offset++] = 255 - C; data[offset++] = 255 - M; data[offset++] = 255 - Ye; data[offset++] = 255 - v(3);
    }
  }
  return data;
}

/**
 * jpeg-js's decode(jpegData, { useTArray: true, ...opts }) with libjpeg's IDCT. `idct` is there for
 * bench/jpeg-port-check.ts only, which passes jpeg-js's own IDCT to show that the rest is jpeg-js unchanged.
 */
export function decodeJpegJs(jpegData: Uint8Array, userOpts: JpegDecodeOptions = {}, idct: BlockIdct = idctIslow): JpegDecoded {
  const opts = { formatAsRGBA: true, tolerantDecoding: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 512, maxScans: Infinity, singleFrame: false, ...userOpts };
  const budget = new Budget(opts.maxMemoryUsageInMB * 1024 * 1024);
  const p = parse(new Uint8Array(jpegData), opts, budget, idct);
  const channels = opts.formatAsRGBA ? 4 : 3;
  const bytesNeeded = p.width * p.height * channels;
  budget.request(bytesNeeded);
  const image: JpegDecoded = { width: p.width, height: p.height, data: new Uint8Array(bytesNeeded), ...(p.exifBuffer ? { exifBuffer: p.exifBuffer } : {}), ...(p.comments.length > 0 ? { comments: p.comments } : {}) };
  const data = getData(p, opts, budget);
  const out = image.data;
  let i = 0, j = 0;
  const n = p.components.length;
  if (n !== 1 && n !== 3 && n !== 4) throw new Error('Unsupported color mode'); // jpeg-js copyToImageData
  if (n === 3 && !opts.formatAsRGBA) out.set(data);
  else for (let k = 0; k < p.width * p.height; k++) {
    if (n === 1) { const Y = data[i++]!; out[j++] = Y; out[j++] = Y; out[j++] = Y; }
    else if (n === 3) { out[j++] = data[i++]!; out[j++] = data[i++]!; out[j++] = data[i++]!; }
    else {
      const C = data[i++]!, M = data[i++]!, Ye = data[i++]!, K = data[i++]!;
      out[j++] = 255 - clampTo8bit(C * (1 - K / 255) + K);
      out[j++] = 255 - clampTo8bit(M * (1 - K / 255) + K);
      out[j++] = 255 - clampTo8bit(Ye * (1 - K / 255) + K);
    }
    if (opts.formatAsRGBA) out[j++] = 255;
  }
  return image;
}
