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
 * The entropy decoding of the SDK's Node JPEG decoder: buildHuffmanTable and
 * decodeScan of jpeg-js 0.4.4's lib/decoder.js (npm jpeg-js 0.4.4, itself from
 * pdf.js: pdf.js's Apache-2.0 header and the jpeg-js package's BSD-3-Clause
 * licence above, client-sdk/NOTICE.md), brought into the SDK with types and no
 * change of behaviour (the same tolerant decoding, the same errors, the same
 * reading past the end as zero bits), so that the coefficients reach libjpeg's
 * IDCT (jpeg-idct.ts). The rest of the decoder: jpeg-decoder.ts.
 */

/** A Huffman code tree: a child is a decoded value (number) or a deeper node. */
export type HuffmanNode = (number | HuffmanNode)[];

export interface JpegComponent {
  h: number;
  v: number;
  quantizationIdx?: number;
  quantizationTable?: Int32Array;
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Coefficient blocks (natural order, 64 each), whole MCUs. */
  blocks: Int32Array[][];
  pred: number;
  huffmanTableDC?: HuffmanNode;
  huffmanTableAC?: HuffmanNode;
}

export interface JpegFrameState {
  extended: boolean;
  progressive: boolean;
  precision: number;
  scanLines: number;
  samplesPerLine: number;
  components: Record<number, JpegComponent>;
  componentsOrder: number[];
  maxH: number;
  maxV: number;
  mcusPerLine: number;
  mcusPerColumn: number;
}

export const dctZigZag = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
  47, 55, 62, 63,
]);

interface Slot { children: HuffmanNode; index: number }

export function buildHuffmanTable(codeLengths: Uint8Array, values: Uint8Array): HuffmanNode {
  let k = 0, length = 16;
  const code: Slot[] = [];
  while (length > 0 && !codeLengths[length - 1]) length--;
  code.push({ children: [], index: 0 });
  let p = code[0]!, q: Slot;
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < codeLengths[i]!; j++) {
      p = code.pop()!;
      p.children[p.index] = values[k]!;
      while (p.index > 0) {
        if (code.length === 0) throw new Error('Could not recreate Huffman Table');
        p = code.pop()!;
      }
      p.index++;
      code.push(p);
      while (code.length <= i) {
        code.push(q = { children: [], index: 0 });
        p.children[p.index] = q.children;
        p = q;
      }
      k++;
    }
    if (i + 1 < length) {
      // p here points to last code
      code.push(q = { children: [], index: 0 });
      p.children[p.index] = q.children;
      p = q;
    }
  }
  return code[0]!.children;
}

type BlockDecoder = (component: JpegComponent, zz: Int32Array) => void;

/** One scan's entropy-coded data from data[offset]; returns the bytes consumed (jpeg-js decodeScan). */
export function decodeScan(data: Uint8Array, offset: number, frame: JpegFrameState, components: JpegComponent[], resetIntervalIn: number | undefined,
  spectralStart: number, spectralEnd: number, successivePrev: number, successive: number, tolerantDecoding: boolean): number {
  const mcusPerLine = frame.mcusPerLine, progressive = frame.progressive;
  const startOffset = offset;
  let bitsData = 0, bitsCount = 0;
  // Past the end, data[offset] is undefined and reads as zero bits (as in jpeg-js)
  function readBit(): number {
    if (bitsCount > 0) {
      bitsCount--;
      return (bitsData >> bitsCount) & 1;
    }
    bitsData = data[offset++]!;
    if (bitsData === 0xff) {
      const nextByte = data[offset++];
      if (nextByte) throw new Error('unexpected marker: ' + ((bitsData << 8) | nextByte).toString(16));
      // unstuff 0
    }
    bitsCount = 7;
    return bitsData >>> 7;
  }
  function decodeHuffman(tree: HuffmanNode | undefined): number {
    // An undefined table throws a TypeError here, as in jpeg-js (the caller turns it into a coded error)
    let node = tree as HuffmanNode | number;
    for (;;) {
      node = (node as HuffmanNode)[readBit()]!;
      if (typeof node === 'number') return node;
      if (typeof node !== 'object') throw new Error('invalid huffman sequence');
    }
  }
  function receive(length: number): number {
    let n = 0;
    while (length > 0) {
      n = (n << 1) | readBit();
      length--;
    }
    return n;
  }
  function receiveAndExtend(length: number): number {
    const n = receive(length);
    if (n >= 1 << (length - 1)) return n;
    return n + (-1 << length) + 1;
  }
  function decodeBaseline(component: JpegComponent, zz: Int32Array): void {
    const t = decodeHuffman(component.huffmanTableDC);
    const diff = t === 0 ? 0 : receiveAndExtend(t);
    zz[0] = (component.pred += diff);
    let k = 1;
    while (k < 64) {
      const rs = decodeHuffman(component.huffmanTableAC);
      const s = rs & 15, r = rs >> 4;
      if (s === 0) {
        if (r < 15) break;
        k += 16;
        continue;
      }
      k += r;
      zz[dctZigZag[k]!] = receiveAndExtend(s);
      k++;
    }
  }
  function decodeDCFirst(component: JpegComponent, zz: Int32Array): void {
    const t = decodeHuffman(component.huffmanTableDC);
    const diff = t === 0 ? 0 : (receiveAndExtend(t) << successive);
    zz[0] = (component.pred += diff);
  }
  function decodeDCSuccessive(_component: JpegComponent, zz: Int32Array): void {
    zz[0] |= readBit() << successive;
  }
  let eobrun = 0;
  function decodeACFirst(component: JpegComponent, zz: Int32Array): void {
    if (eobrun > 0) {
      eobrun--;
      return;
    }
    let k = spectralStart;
    const e = spectralEnd;
    while (k <= e) {
      const rs = decodeHuffman(component.huffmanTableAC);
      const s = rs & 15, r = rs >> 4;
      if (s === 0) {
        if (r < 15) {
          eobrun = receive(r) + (1 << r) - 1;
          break;
        }
        k += 16;
        continue;
      }
      k += r;
      zz[dctZigZag[k]!] = receiveAndExtend(s) * (1 << successive);
      k++;
    }
  }
  let successiveACState = 0, successiveACNextValue = 0;
  function decodeACSuccessive(component: JpegComponent, zz: Int32Array): void {
    let k = spectralStart, r = 0;
    const e = spectralEnd;
    while (k <= e) {
      const z = dctZigZag[k]!;
      const direction = zz[z]! < 0 ? -1 : 1;
      switch (successiveACState) {
        case 0: { // initial state
          const rs = decodeHuffman(component.huffmanTableAC);
          const s = rs & 15;
          r = rs >> 4;
          if (s === 0) {
            if (r < 15) {
              eobrun = receive(r) + (1 << r);
              successiveACState = 4;
            } else {
              r = 16;
              successiveACState = 1;
            }
          } else {
            if (s !== 1) throw new Error('invalid ACn encoding');
            successiveACNextValue = receiveAndExtend(s);
            successiveACState = r ? 2 : 3;
          }
          continue;
        }
        case 1: // skipping r zero items
        case 2:
          if (zz[z]) zz[z] += (readBit() << successive) * direction;
          else {
            r--;
            if (r === 0) successiveACState = successiveACState === 2 ? 3 : 0;
          }
          break;
        case 3: // set value for a zero item
          if (zz[z]) zz[z] += (readBit() << successive) * direction;
          else {
            zz[z] = successiveACNextValue << successive;
            successiveACState = 0;
          }
          break;
        case 4: // eob
          if (zz[z]) zz[z] += (readBit() << successive) * direction;
          break;
      }
      k++;
    }
    if (successiveACState === 4) {
      eobrun--;
      if (eobrun === 0) successiveACState = 0;
    }
  }
  function decodeMcu(component: JpegComponent, decode: BlockDecoder, mcu: number, row: number, col: number): void {
    const mcuRow = (mcu / mcusPerLine) | 0, mcuCol = mcu % mcusPerLine;
    const blockRow = mcuRow * component.v + row, blockCol = mcuCol * component.h + col;
    // If the block is missing and we're in tolerant mode, just skip it.
    if (component.blocks[blockRow] === undefined && tolerantDecoding) return;
    decode(component, component.blocks[blockRow]![blockCol]!);
  }
  function decodeBlock(component: JpegComponent, decode: BlockDecoder, mcu: number): void {
    const blockRow = (mcu / component.blocksPerLine) | 0, blockCol = mcu % component.blocksPerLine;
    // If the block is missing and we're in tolerant mode, just skip it.
    if (component.blocks[blockRow] === undefined && tolerantDecoding) return;
    decode(component, component.blocks[blockRow]![blockCol]!);
  }

  const componentsLength = components.length;
  const decodeFn: BlockDecoder = progressive
    ? (spectralStart === 0 ? (successivePrev === 0 ? decodeDCFirst : decodeDCSuccessive) : (successivePrev === 0 ? decodeACFirst : decodeACSuccessive))
    : decodeBaseline;

  let mcu = 0;
  const mcuExpected = componentsLength === 1 ? components[0]!.blocksPerLine * components[0]!.blocksPerColumn : mcusPerLine * frame.mcusPerColumn;
  const resetInterval = resetIntervalIn ? resetIntervalIn : mcuExpected;

  while (mcu < mcuExpected) {
    // reset interval stuff
    for (let i = 0; i < componentsLength; i++) components[i]!.pred = 0;
    eobrun = 0;

    if (componentsLength === 1) {
      const component = components[0]!;
      for (let n = 0; n < resetInterval; n++) {
        decodeBlock(component, decodeFn, mcu);
        mcu++;
      }
    } else {
      for (let n = 0; n < resetInterval; n++) {
        for (let i = 0; i < componentsLength; i++) {
          const component = components[i]!;
          for (let j = 0; j < component.v; j++) for (let k = 0; k < component.h; k++) decodeMcu(component, decodeFn, mcu, j, k);
        }
        mcu++;
        // If we've reached our expected MCU's, stop decoding
        if (mcu === mcuExpected) break;
      }
    }

    if (mcu === mcuExpected) {
      // Skip trailing bytes at the end of the scan - until we reach the next marker
      do {
        if (data[offset] === 0xff && data[offset + 1] !== 0x00) break;
        offset += 1;
      } while (offset < data.length - 2);
    }

    // find marker
    bitsCount = 0;
    const marker = (data[offset]! << 8) | data[offset + 1]!;
    if (marker < 0xff00) throw new Error('marker was not found');
    if (marker >= 0xffd0 && marker <= 0xffd7) offset += 2; // RSTx
    else break;
  }
  return offset - startOffset;
}
