/**
 * Dilated (atrous) Conv2D and DepthwiseConv2D as bilinear maps for Beaver
 * multiplication (matmul.ts, SecureNN Alg. 1), by TF's decomposition of an
 * atrous convolution: SpaceToBatch, the undilated convolution, BatchToSpace.
 *
 * Along one axis (input size S, kernel k, stride s, dilation d, padding p
 * before), output o reads the input at t + d ky, t = s o - p. With
 * r = t mod d and q = floor(t / d) that is position r + d (q + ky): row
 * q + ky of the input's phase r (its positions r, r + d, r + 2d, ...). The
 * outputs of one phase are every (d / g)-th output, g = gcd(s, d), with q
 * stepping by s / g: a convolution of the phase with the undilated kernel,
 * stride s / g, starting at q (negative: padding). Phases with the same
 * first q and output count form one group; each pair of groups (rows,
 * columns) is one call of the existing kernels (im2col + GEMM, or
 * depthwise) on its phases stacked in the batch, padded with zero rows to
 * ceil(S / d) (local, linear). The outputs are scattered back (index maps).
 * Every output belongs to one phase and is computed once: the GEMM has
 * N outH outW rows of kh kw C, exactly the multiply-adds of an undilated
 * kernel with the same outputs (a zero-expanded kernel has
 * ((k - 1) d + 1)^2 / k^2 times more: 37^2 / 9 = 152x for 3x3 at d = 18).
 *
 * The gathers are linear maps of x, so op(x, w) stays bilinear and the Beaver
 * product opens E = X - A of the input as it is (N H W C elements), not of a
 * padded or stacked one.
 *
 * Cost: Alg. 1's (matmul.ts bilinearCost) with |X| = N H W C, |Y| = kh kw C
 * Cout (depthwise: kh kw C dm) and |Z| = N outH outW Cout: 1 round, the same
 * as an undilated layer with those sizes; dilated-secure.test.ts checks the
 * declared cost against the transport counters.
 */
import type { BilinearOp } from '../primitives/matmul.js';
import { assert } from '../errors.js';
import { scratchU64 } from '../ring/scratch.js';
import { copyWords, im2colGemmInto } from './conv.js';
import type { Window2D } from './geometry.js';

export interface DilatedConvShape {
  N: number; H: number; W: number; C: number; kh: number; kw: number;
  strides: [number, number]; dilation: [number, number];
  /** The geometry of the dilated window (geometry.ts convWindow). */
  g: Window2D;
}

/** Phases of one axis sharing a sub-convolution: first row q0, `count` outputs; outs[i * count + m] = output of phase i's m-th. */
interface AxisGroup { q0: number; count: number; phases: number[]; outs: number[] }

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** One axis: its groups, the phases' common length ceil(S / d) and the sub-convolutions' stride s / gcd(s, d). */
export function dilatedAxis(S: number, s: number, d: number, padBefore: number, out: number): { groups: AxisGroup[]; len: number; stride: number } {
  const stride = s / gcd(s, d);
  const byPhase = new Map<number, { q0: number; outs: number[] }>();
  for (let o = 0; o < out; o++) {
    const t = s * o - padBefore, r = ((t % d) + d) % d, q = Math.floor(t / d);
    const ph = byPhase.get(r);
    if (!ph) byPhase.set(r, { q0: q, outs: [o] });
    else {
      assert(q === ph.q0 + ph.outs.length * stride, 'E_INTERNAL', `dilated conv: phase ${r} is not a stride-${stride} run`);
      ph.outs.push(o);
    }
  }
  const groups = new Map<string, AxisGroup>();
  for (const [r, ph] of byPhase) {
    const key = `${ph.q0},${ph.outs.length}`;
    let gr = groups.get(key);
    if (!gr) groups.set(key, gr = { q0: ph.q0, count: ph.outs.length, phases: [], outs: [] });
    gr.phases.push(r);
    gr.outs.push(...ph.outs);
  }
  return { groups: [...groups.values()], len: Math.ceil(S / d), stride };
}

/**
 * The dilated convolution as a bilinear op: `Cout` filters (conv2d, w [kh kw C, Cout]) or, with `dm`, depthwise of
 * multiplier dm (w [kh kw C, dm], output channel c dm + m).
 */
export function dilatedConvOp(sh: DilatedConvShape, kind: { filters: number } | { dm: number }, label = 'conv2d'): BilinearOp {
  const { N, H, W, C, kh, kw, strides, dilation, g } = sh;
  const rowsAx = dilatedAxis(H, strides[0], dilation[0], g.padTop, g.outH), colsAx = dilatedAxis(W, strides[1], dilation[1], g.padLeft, g.outW);
  const depthwise = 'dm' in kind;
  const Co = depthwise ? C * kind.dm : kind.filters, K = kh * kw * C;
  const sizeZ = N * g.outH * g.outW * Co;
  const nh = rowsAx.len, nw = colsAx.len, c2 = 2 * C, o2 = 2 * Co;
  return {
    label, sizeX: N * H * W * C, sizeY: K * (depthwise ? kind.dm : Co), sizeZ,
    apply(k, x, w, out = new BigUint64Array(sizeZ)) {
      const xs = new Uint32Array(x.buffer, x.byteOffset, 2 * x.length), ow = new Uint32Array(out.buffer, out.byteOffset, 2 * sizeZ);
      for (const gh of rowsAx.groups) for (const gw of colsAx.groups) {
        const Ph = gh.phases.length, Pw = gw.phases.length, Nb = N * Ph * Pw, rows = Nb * gh.count * gw.count;
        // SpaceToBatch: image b's phase (rh, rw) as batch entry (b Ph + ih) Pw + iw of nh x nw, zero past the input.
        const st = scratchU64('dil.x', Nb * nh * nw * C), sw = new Uint32Array(st.buffer, st.byteOffset, 2 * st.length);
        sw.fill(0);
        let nb = 0;
        for (let b = 0; b < N; b++) for (const rh of gh.phases) for (const rw of gw.phases) {
          for (let j = 0; j < nh; j++) {
            const y = rh + dilation[0] * j;
            if (y >= H) break;
            for (let jj = 0; jj < nw; jj++) {
              const xx = rw + dilation[1] * jj;
              if (xx >= W) break;
              copyWords(sw, (((nb * nh + j) * nw) + jj) * c2, xs, ((b * H + y) * W + xx) * c2, c2);
            }
          }
          nb++;
        }
        // The undilated convolution of every stacked phase: stride s / g, starting at row q0 (padding -q0).
        const z = scratchU64('dil.z', rows * Co);
        if (depthwise) k.depthwise(st, w, Nb, nh, nw, C, kind.dm, kh, kw, rowsAx.stride, colsAx.stride, -gh.q0, -gw.q0, gh.count, gw.count, z);
        else im2colGemmInto(k, 'dil.cols', st, Nb, nh, nw, C, kh, kw, rowsAx.stride, colsAx.stride, -gh.q0, -gw.q0, gh.count, gw.count, w, Co, z);
        // BatchToSpace: row (b, ih, iw, m, mm) to output (b, outs_h[ih][m], outs_w[iw][mm]).
        const zw = new Uint32Array(z.buffer, z.byteOffset, 2 * rows * Co);
        let i = 0;
        for (let b = 0; b < N; b++) for (let ih = 0; ih < Ph; ih++) for (let iw = 0; iw < Pw; iw++) {
          for (let m = 0; m < gh.count; m++) {
            const rowBase = (b * g.outH + gh.outs[ih * gh.count + m]!) * g.outW;
            for (let mm = 0; mm < gw.count; mm++, i += o2) copyWords(ow, (rowBase + gw.outs[iw * gw.count + mm]!) * o2, zw, i, o2);
          }
        }
      }
      return out;
    },
  };
}
