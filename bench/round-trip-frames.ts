/** Length-prefixed frames on a byte stream (bench/round-trip.ts and its echo worker). */
export function framed(onFrame: (f: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (buf.length < 4 + n) break;
      onFrame(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
    }
  };
}

export const frame = (p: Uint8Array): Buffer => { const b = Buffer.allocUnsafe(4 + p.byteLength); b.writeUInt32BE(p.byteLength, 0); b.set(p, 4); return b; };
