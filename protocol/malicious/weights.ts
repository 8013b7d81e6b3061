/**
 * Model weights in the malicious mode (docs/MALICIOUS.md): replicated
 * 2-out-of-3 shares of the fixed-point weights lifted into Z_2^128 (Araki et
 * al., CCS 2016, §2.1: party i holds (w_i, w_{i+1})), written once per
 * import, and their MACs made at session set-up with the session's key.
 *
 *  1. Import (dealer side, `shareModelReplicated`): each weight and bias is
 *     encoded with f fractional bits (fixed-point/), sign-extended into
 *     Z_2^128 (ring128.ts liftSigned) and split into three uniform shares
 *     w = w_0 + w_1 + w_2; party i's bundle gets (w_i, w_{i+1}).
 *  2. Load (`checkWeightCopies`): every share is held by two parties; P_i
 *     sends H(w_{i+1}) (its second share) to P_{i+1}, which holds it as its
 *     first and compares. A mismatch (a bundle altered or from another
 *     import at one holder) is E_INTEGRITY at the two parties whose copies
 *     differ, before any run uses the weights; the third party (whose own
 *     copies agree with its neighbours') gets their abort notice at its next
 *     receive from them (prepareWeights: in the same step).
 *  3. Session set-up (`macWeights`): the weights' MACs [alpha w] with the
 *     session's key, by one macOf over every weight (product.ts; Dalskov,
 *     Escudero, Keller 2020 Pi_Mult with the key as one operand). The MACs
 *     are registered for the session's batched MAC check like every value
 *     made by communication.
 *
 * Cost: load check 1 round, 96 bytes (3 hashes); MACs 1 round, 48 bytes per
 * weight element (macOfCost). `prepareWeights` runs both in one round.
 */
import { randomBytes } from 'node:crypto';
import { Prg } from '../correlated/prg.js';
import type { Cost } from '../primitives/cost.js';
import { encode } from '../fixed-point/fixed-point.js';
import type { FloatTensor, LayerNode, ModelIR } from '../ir.js';
import { addCost } from '../primitives/cost.js';
import { alloc128, bytes128, len128, liftSigned, random128, sub128, type Vec128 } from './ring128.js';
import type { MShare, Rep } from './rep.js';
import { macOfBody, macOfCost, markConstant } from './product.js';
import { digest, HASH_BYTES, sameBytes, type MalSession } from './session.js';
import type { MTensor } from './tensor.js';
import { concatM, sliceM } from './mvec.js';

/** One party's replicated shares of a weight tensor (no MAC yet). */
export interface RepTensor {
  shape: number[];
  data: Rep;
}

export const weightCheckCost = (): Cost => ({ rounds: 1, bytes: 3 * HASH_BYTES });
export const prepareWeightsCost = (elements: number): Cost => ({ ...addCost(weightCheckCost(), macOfCost(elements)), rounds: 1 });

/** Split x into three uniform shares (dealer side), as party parts (x_i, x_{i+1}). */
export function shareReplicated(x: Vec128): [Rep, Rep, Rep] {
  const n = len128(x);
  const g = new Prg(randomBytes(16));
  const s0 = random128(g, n), s1 = random128(g, n);
  const s2 = sub128(sub128(x, s0, alloc128(n)), s1, alloc128(n));
  const s = [s0, s1, s2];
  // Separate copies, as each party's bundle holds its own.
  return [0, 1, 2].map((i) => ({ a: s[i]!.slice() as Vec128, b: s[(i + 1) % 3]!.slice() as Vec128 })) as [Rep, Rep, Rep];
}

/** Step 1: the three parties' models with replicated weight shares (f fractional bits). */
export function shareModelReplicated(model: ModelIR<FloatTensor>, f: number): [ModelIR<RepTensor>, ModelIR<RepTensor>, ModelIR<RepTensor>] {
  const parts: ModelIR<RepTensor>[] = [0, 1, 2].map(() => ({ ...model, nodes: [] as LayerNode<RepTensor>[] }));
  const split = (t: FloatTensor): [Rep, Rep, Rep] => shareReplicated(liftSigned(encode(t.data, f)));
  for (const node of model.nodes) {
    if (!('kernel' in node)) { parts.forEach((p) => p.nodes.push(node)); continue; }
    const sk = split(node.kernel);
    const sb = node.bias ? split(node.bias) : null;
    parts.forEach((p, j) => {
      p.nodes.push({ ...node, kernel: { shape: node.kernel.shape, data: sk[j]! }, ...(sb && node.bias ? { bias: { shape: node.bias.shape, data: sb[j]! } } : {}) } as LayerNode<RepTensor>);
    });
  }
  return parts as [ModelIR<RepTensor>, ModelIR<RepTensor>, ModelIR<RepTensor>];
}

/** The weight tensors of a model in node order (kernel, then bias). */
function weightTensors<W>(model: ModelIR<W>): { node: number; field: 'kernel' | 'bias'; t: W }[] {
  const out: { node: number; field: 'kernel' | 'bias'; t: W }[] = [];
  model.nodes.forEach((nd, i) => {
    if (!('kernel' in nd)) return;
    out.push({ node: i, field: 'kernel', t: nd.kernel });
    if (nd.bias) out.push({ node: i, field: 'bias', t: nd.bias });
  });
  return out;
}

/** Hash of every weight's share j as this party holds it (first or second copy). */
function copiesHash(model: ModelIR<RepTensor>, pick: 'a' | 'b'): Uint8Array {
  return digest('mal.weights', ...weightTensors(model).map((w) => bytes128(w.t.data[pick])));
}

/** Step 2 without its own step. */
async function checkBody(s: MalSession, model: ModelIR<RepTensor>): Promise<void> {
  const tag = s.label('weights');
  s.send(s.next, tag, copiesHash(model, 'b'));
  const h = await s.recv(s.prev, tag, HASH_BYTES);
  if (!sameBytes(h, copiesHash(model, 'a'))) s.fail(tag, `P${s.prev}'s copy of the weight share it holds with this party differs (another bundle or an altered one)`);
}

/** Step 2: the two holders of each weight share compare hashes. Cost weightCheckCost(). */
export function checkWeightCopies(s: MalSession, model: ModelIR<RepTensor>): Promise<void> {
  return s.guard('mal.weights', () => checkBody(s, model));
}

/** Steps 2 and 3 in one round: the checked, MACed model of this session. Cost prepareWeightsCost(weight elements). */
export function prepareWeights(s: MalSession, model: ModelIR<RepTensor>): Promise<ModelIR<MTensor>> {
  return s.guard('mal.weights', async () => {
    const ws = weightTensors(model);
    const n = ws.reduce((t, w) => t + len128(w.t.data.a), 0);
    const cat = (pick: 'a' | 'b'): Vec128 => {
      const v = alloc128(n);
      let o = 0;
      for (const w of ws) { v.set(w.t.data[pick], 4 * o); o += len128(w.t.data[pick]); }
      return v;
    };
    const [, macced] = await Promise.all([checkBody(s, model), n ? macOfBody(s, { a: cat('a'), b: cat('b') }) : Promise.resolve(concatM([]))]);
    const nodes = model.nodes.map((nd) => ({ ...nd })) as LayerNode<MTensor>[];
    let o = 0;
    for (const w of ws) {
      const len = len128(w.t.data.a);
      const t: MTensor = { shape: w.t.shape, data: sliceM(macced as MShare, o, o + len) };
      markConstant(t.data); // never written again: matmulM may keep its right-hand block (product.ts)
      (nodes[w.node] as unknown as Record<string, MTensor>)[w.field] = t;
      o += len;
    }
    return { ...model, nodes };
  });
}
