import { configureNativeKernels, nativeKernelInfo } from '../../runtime/native-addon.js';
import { describe, expect, it } from 'vitest';
import { Prg, dealSeeds } from './prg.js';

const seed = (b: number) => new Uint8Array(16).fill(b);

describe('AES-CTR PRG (correlated randomness)', () => {
  it('gives identical streams to two holders of one seed, whatever the chunking of their calls', () => {
    const a = new Prg(seed(7)), b = new Prg(seed(7));
    const x = new Uint8Array([...a.bytes(5), ...a.bytes(70_000), ...a.bytes(3)]);
    const y = b.bytes(70_008);
    expect(Buffer.from(x).equals(Buffer.from(y))).toBe(true);
    expect(new Prg(seed(8)).bytes(32)).not.toEqual(new Prg(seed(7)).bytes(32));
  });
  it('samples Z_67 and Z_67^* exactly in range, covering every value', () => {
    const g = new Prg(seed(1));
    const zp = g.zp(20_000), st = g.zpStar(20_000);
    expect(Math.max(...zp)).toBe(66);
    expect(Math.min(...zp)).toBe(0);
    expect(Math.min(...st)).toBe(1);
    expect(Math.max(...st)).toBe(66);
    expect(new Set(zp).size).toBe(67);
  });
  it('samples Z_2^64-1 without the value 2^64-1 and bits in {0,1}', () => {
    const g = new Prg(seed(2));
    expect(g.u64odd(1000).every((v) => v !== 0xffffffffffffffffn)).toBe(true);
    expect(g.bits(1000).every((v) => v === 0 || v === 1)).toBe(true);
  });
  it('returns valid permutations of 0..63', () => {
    const p = new Prg(seed(3)).permutations(50, 64);
    for (let c = 0; c < 50; c++) expect([...p.subarray(c * 64, c * 64 + 64)].sort((a, b) => a - b)).toEqual([...Array(64).keys()]);
  });
  it('draws into a caller\'s buffer (u64Into, zpInto, zpStarInto) exactly what u64, zp and zpStar return', () => {
    const a = new Prg(seed(4)), b = new Prg(seed(4));
    const x = [a.u64(33), a.zp(1001), a.zpStar(517), a.bytes(9)];
    const big = new Uint8Array(4096);
    const y = [b.u64Into(new BigUint64Array(33)), b.zpInto(big.subarray(0, 1001)), b.zpStarInto(big.subarray(1001, 1518)), b.bytes(9)];
    x.forEach((v, i) => expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(y[i]!.buffer, y[i]!.byteOffset, y[i]!.byteLength)), `draw ${i}`).toBe(true));
  });

  it('bits and rotations64 are the stream\'s bytes masked to 1 and 6 bits, for lengths with and without a 4-byte tail', () => {
    for (const n of [0, 1, 3, 4, 5, 7, 8, 1001, 4096]) {
      const raw = new Prg(seed(9)).bytes(2 * n), g = new Prg(seed(9));
      expect(Array.from(g.bits(n))).toEqual(Array.from(raw.subarray(0, n), (b) => b & 1));
      expect(Array.from(g.rotations64(n))).toEqual(Array.from(raw.subarray(n, 2 * n), (b) => b & 63));
    }
  });

  it('refuses a seed that is not 16 bytes', () => {
    expect(() => new Prg(new Uint8Array(8))).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
  it('deals pair seeds so that each pair agrees and pairs differ', () => {
    const [s0, s1, s2] = dealSeeds();
    expect(s0.pair[1]).toEqual(s1.pair[0]);
    expect(s0.pair[2]).toEqual(s2.pair[0]);
    expect(s1.pair[2]).toEqual(s2.pair[1]);
    expect(s0.pair[1]).not.toEqual(s0.pair[2]);
  });
});

describe('AES-NI keystream (native) and node:crypto give the same PRG', () => {
  const a = new Prg(seed(9)), b = new Prg(seed(9), { backend: 'node' });
  it.skipIf(a.backend === 'node')('matches byte for byte over a mix of draws, unaligned offsets and rejection sampling', () => {
    expect(b.backend).toBe('node');
    const draw = (g: Prg) => [g.bytes(3), g.zp(1000), g.u64(7), g.bytes(70_001), g.zpStar(64 * 513), g.zp(300_001), g.bits(5), g.u64odd(9), g.permutations(3, 64), g.bytes(17)];
    const x = draw(a), y = draw(b);
    x.forEach((v, i) => expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(y[i]!.buffer, y[i]!.byteOffset, y[i]!.byteLength)), `draw ${i}`).toBe(true));
  });
});

describe('native PRG paths (AES-NI / VAES keystream, scalar / AVX-512 rejection scan) give one stream', () => {
  const info = nativeKernelInfo();
  it.skipIf(!info || new Prg(seed(3)).backend === 'node')('draws the same bytes with the SIMD level capped at scalar, avx2 and the best one', () => {
    const levels = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info!.detectedSimd) + 1);
    const draw = () => { const g = new Prg(seed(5)); return [g.bytes(5), g.zp(100_003), g.bytes(4099), g.zpStar(64 * 333 + 7), g.u64(1000)]; };
    const before = info!.simd;
    try {
      const runs = levels.map((simd) => { configureNativeKernels({ simd }); return draw(); });
      const node = (() => { const g = new Prg(seed(5), { backend: 'node' }); return [g.bytes(5), g.zp(100_003), g.bytes(4099), g.zpStar(64 * 333 + 7), g.u64(1000)]; })();
      for (const [li, run] of runs.entries()) run.forEach((v, i) => expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(node[i]!.buffer, node[i]!.byteOffset, node[i]!.byteLength)), `${levels[li]} draw ${i}`).toBe(true));
    } finally {
      configureNativeKernels({ simd: before });
    }
  });
});
