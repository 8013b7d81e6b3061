/**
 * Split a plaintext model into the three parties' models: weights and biases
 * encoded with f fractional bits and additively shared between P0 and P1;
 * P2 gets the architecture with empty weight data (the helper needs only shapes).
 */
import type { FloatTensor, LayerNode, ModelIR } from '../ir.js';
import type { RingKernels } from '../kernels/types.js';
import { encode } from '../fixed-point/fixed-point.js';
import { share } from '../sharing/sharing.js';
import type { AShare } from '../ring/types.js';
import type { ShareTensor } from './types.js';

export function shareModel(k: RingKernels, model: ModelIR<FloatTensor>, f: number): [ModelIR<ShareTensor>, ModelIR<ShareTensor>, ModelIR<ShareTensor>] {
  const parts: ModelIR<ShareTensor>[] = [0, 1, 2].map(() => ({ ...model, nodes: [] as LayerNode<ShareTensor>[] }));
  for (const node of model.nodes) {
    if (!('kernel' in node)) { parts.forEach((p) => p.nodes.push(node)); continue; }
    const sk = share(k, encode(node.kernel.data, f));
    const sb = node.bias ? share(k, encode(node.bias.data, f)) : null;
    parts.forEach((p, j) => {
      const data = (t: [AShare, AShare]): AShare => (j < 2 ? t[j as 0 | 1] : (new BigUint64Array(0) as AShare));
      p.nodes.push({ ...node, kernel: { shape: node.kernel.shape, data: data(sk) }, ...(sb && node.bias ? { bias: { shape: node.bias.shape, data: data(sb) } } : {}) } as LayerNode<ShareTensor>);
    });
  }
  return parts as [ModelIR<ShareTensor>, ModelIR<ShareTensor>, ModelIR<ShareTensor>];
}
