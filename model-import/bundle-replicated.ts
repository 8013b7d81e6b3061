/**
 * Replicated weight shares for the malicious mode (docs/MALICIOUS.md;
 * protocol/malicious/weights.ts), written beside the semi-honest payload
 * when the importer is asked (`writeBundles(..., { replicated: true })`):
 * every weight and bias, fixed point with f fractional bits, sign-extended
 * into Z_2^128 and split as w = w_0 + w_1 + w_2; party i's directory gets
 *  - replicated-a.bin: w_i,
 *  - replicated-b.bin: w_{i+1},
 * 16 bytes per element (four little-endian 32-bit words), in node order,
 * kernel then bias (the same order as weights.bin; P2 gets them too: in the
 * malicious mode every party holds two shares). The manifest's `replicated`
 * records the sizes and sha256 of both files. weights.bin and every other
 * manifest field are unchanged, so the semi-honest format stays as it was.
 *
 * At load (`loadReplicatedWeights`) the sizes and hashes are checked
 * (E_BUNDLE_INTEGRITY); that the two holders of each share have the same
 * copy is checked between the parties (weights.ts checkWeightCopies).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { MpcError } from '../protocol/errors.js';
import type { LayerNode, ModelIR } from '../protocol/ir.js';
import type { PartyId } from '../protocol/ring/types.js';
import { bytes128, fromBytes128, liftSigned, type Vec128 } from '../protocol/malicious/ring128.js';
import { shareReplicated, type RepTensor } from '../protocol/malicious/weights.js';
import { sizeOf } from './shapes.js';

export const REPLICATED_FILES = { a: 'replicated-a.bin', b: 'replicated-b.bin' } as const;

export interface ReplicatedManifest {
  ring: 'Z_2^128';
  encoding: 'u32le-words';
  files: typeof REPLICATED_FILES;
  /** Bytes of each file (16 per weight element). */
  bytes: number;
  sha256: { a: string; b: string };
}

/** Writes the two files of the three parties as the weights are encoded, chunk by chunk. */
export class ReplicatedWriter {
  private readonly fds: { a: number; b: number }[];
  private readonly hashes: { a: Hash; b: Hash }[];
  private bytes = 0;

  constructor(dirs: string[]) {
    this.fds = [];
    this.hashes = [];
    try {
      for (const d of dirs) {
        this.fds.push({ a: openSync(path.join(d, REPLICATED_FILES.a), 'w', 0o600), b: openSync(path.join(d, REPLICATED_FILES.b), 'w', 0o600) });
        this.hashes.push({ a: createHash('sha256'), b: createHash('sha256') });
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** One chunk of encoded weights (Z_2^64): lifted, split, party i's two shares appended. */
  write(enc: BigUint64Array): void {
    const parts = shareReplicated(liftSigned(enc));
    parts.forEach((r, p) => {
      for (const k of ['a', 'b'] as const) {
        const b = bytes128(r[k]);
        writeSync(this.fds[p]![k], b);
        this.hashes[p]![k].update(b);
      }
    });
    this.bytes += 16 * enc.length;
  }

  /** fsync and close; the manifest field of each party. */
  finish(): ReplicatedManifest[] {
    for (const f of this.fds) for (const fd of [f.a, f.b]) fsyncSync(fd);
    this.close();
    return this.hashes.map((h) => ({ ring: 'Z_2^128', encoding: 'u32le-words', files: REPLICATED_FILES, bytes: this.bytes, sha256: { a: h.a.digest('hex'), b: h.b.digest('hex') } }));
  }

  close(): void {
    for (const f of this.fds.splice(0)) {
      for (const fd of [f.a, f.b]) {
        try { closeSync(fd); } catch { /* already closed */ }
      }
    }
  }
}

function integrity(msg: string, party: PartyId, cause?: unknown): MpcError {
  return new MpcError('E_BUNDLE_INTEGRITY', `bundle: ${msg}`, { step: 'bundle.load', party, ...(cause ? { cause } : {}) });
}

/**
 * Party `party`'s replicated weights from its bundle directory `dir` (the
 * one holding manifest.json) and its parsed node list: E_BUNDLE_INTEGRITY
 * when the bundle has no replicated shares, or a file is missing, truncated
 * or differs from its sha256.
 */
export function loadReplicatedWeights(dir: string, party: PartyId, manifest: { replicated?: ReplicatedManifest; nodes: LayerNode<{ shape: number[] }>[]; inputShape: number[]; output: string; outputActivation: ModelIR['outputActivation']; labels?: string[] }): ModelIR<RepTensor> {
  const rm = manifest.replicated;
  if (!rm || rm.ring !== 'Z_2^128' || rm.encoding !== 'u32le-words') throw integrity('no replicated weight shares (import with the malicious mode\'s replicated shares: writeBundles { replicated: true })', party);
  const read = (k: 'a' | 'b'): Vec128 => {
    let buf: Buffer;
    try { buf = readFileSync(path.join(dir, REPLICATED_FILES[k])); } catch (e) { throw integrity(`${REPLICATED_FILES[k]} is missing`, party, e); }
    if (buf.length !== rm.bytes) throw integrity(`${REPLICATED_FILES[k]} is ${buf.length} bytes, manifest says ${rm.bytes}`, party);
    if (createHash('sha256').update(buf).digest('hex') !== rm.sha256[k]) throw integrity(`${REPLICATED_FILES[k]}'s sha256 does not match the manifest`, party);
    return fromBytes128(buf);
  };
  const all = { a: read('a'), b: read('b') };
  let offset = 0;
  const take = (shape: number[]): RepTensor => {
    const n = sizeOf(shape);
    if (16 * (offset + n) > rm.bytes) throw integrity(`the node list needs more than the ${rm.bytes / 16} replicated elements`, party);
    const t = { shape: shape.slice(), data: { a: all.a.subarray(4 * offset, 4 * (offset + n)) as Vec128, b: all.b.subarray(4 * offset, 4 * (offset + n)) as Vec128 } };
    offset += n;
    return t;
  };
  const nodes = manifest.nodes.map((nd) => {
    if (!('kernel' in nd)) return nd as LayerNode<RepTensor>;
    const kernel = take(nd.kernel.shape);
    const bias = nd.bias ? take(nd.bias.shape) : undefined;
    return { ...nd, kernel, ...(bias ? { bias } : {}) } as LayerNode<RepTensor>;
  });
  if (16 * offset !== rm.bytes) throw integrity(`the node list uses ${offset} of ${rm.bytes / 16} replicated elements`, party);
  return { formatVersion: 1, inputShape: manifest.inputShape.slice(), nodes, output: manifest.output, outputActivation: manifest.outputActivation, ...(manifest.labels ? { labels: manifest.labels.slice() } : {}) };
}
