import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { isMpcError } from '../protocol/errors.js';
import { networkA } from '../protocol/seed-models.js';
import type { DenseNode, ModelIR } from '../protocol/ir.js';
import type { PartyId } from '../protocol/ring/types.js';
import { liftSigned, toBigints } from '../protocol/malicious/ring128.js';
import { reconstructRep } from '../protocol/malicious/rep.js';
import { checkWeightCopies, prepareWeights, type RepTensor } from '../protocol/malicious/weights.js';
import { runMal3 } from '../protocol/testing/cheat.js';
import { loadBundle, writeBundles, type BundleManifest } from './bundle.js';
import { loadReplicatedWeights, REPLICATED_FILES } from './bundle-replicated.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const small = (): ModelIR => {
  const m = networkA(3);
  return { ...m, nodes: m.nodes.slice(0, 1), output: m.nodes[0]!.name };
};
const src = (ir: ModelIR) => ({ ir, sourceHash: 'ab'.repeat(32) });
const load = (out: string, p: PartyId) => {
  const dir = path.join(out, `party${p}`);
  const { manifest } = loadBundle(dir, p);
  return loadReplicatedWeights(dir, p, manifest as BundleManifest & { nodes: never });
};

describe('bundle writer: the malicious mode\'s replicated weight shares (bundle-replicated.ts)', () => {
  it('writes (w_i, w_{i+1}) for each party beside an unchanged weights.bin; they reconstruct to the lifted fixed-point weights', () => {
    const ir = small();
    const out = path.join(tmp.dir, 'rep');
    const ms = writeBundles(src(ir), out, { fracBits: 13, replicated: true });
    const plain = writeBundles(src(ir), path.join(tmp.dir, 'plain'), { fracBits: 13 });
    // The semi-honest part is as before: same fields (but the replicated one), same payload sizes.
    for (const p of [0, 1, 2] as PartyId[]) {
      const { replicated, importId: _a, createdAt: _b, payload, ...rest } = ms[p]!;
      const { importId: _c, createdAt: _d, payload: payload0, ...rest0 } = plain[p]!;
      expect(rest).toEqual(rest0);
      expect(payload.bytes).toBe(payload0.bytes);
      expect(replicated).toMatchObject({ ring: 'Z_2^128', files: REPLICATED_FILES, bytes: 16 * ms[p]!.params });
      expect(ms[p]!.requires).toBeUndefined();
    }
    const parts = ([0, 1, 2] as PartyId[]).map((p) => load(out, p));
    const kernel = (p: number) => (parts[p]!.nodes[0] as DenseNode<RepTensor>).kernel;
    expect(kernel(0).shape).toEqual([784, 128]);
    const w = reconstructRep([kernel(0).data, kernel(1).data, kernel(2).data]);
    expect(toBigints(w).slice(0, 50)).toEqual(toBigints(liftSigned(encode((ir.nodes[0] as DenseNode<{ shape: number[]; data: Float64Array }>).kernel.data, 13))).slice(0, 50));
    const bias = (p: number) => (parts[p]!.nodes[0] as DenseNode<RepTensor>).bias!.data;
    expect(toBigints(reconstructRep([bias(0), bias(1), bias(2)]))).toEqual(toBigints(liftSigned(encode((ir.nodes[0] as DenseNode<{ shape: number[]; data: Float64Array }>).bias!.data, 13))));
  });

  it("requireSecurity 'malicious' writes requires into the manifests (and the replicated shares); a bad value is refused before writing", () => {
    const ms = writeBundles(src(small()), path.join(tmp.dir, 'req'), { fracBits: 13, requireSecurity: 'malicious' });
    for (const m of ms) {
      expect(m.requires).toEqual({ security: 'malicious' });
      expect(m.replicated?.bytes).toBe(16 * m.params);
    }
    expect(() => writeBundles(src(small()), path.join(tmp.dir, 'bad'), { requireSecurity: 'paranoid' as 'malicious' })).toThrow(/requireSecurity must be 'malicious'/);
  });

  it('at load: an altered or truncated file, or a bundle without them, is E_BUNDLE_INTEGRITY; the parties\' copy check passes on one import and fails (E_INTEGRITY) across two', async () => {
    const a = path.join(tmp.dir, 'a'), b = path.join(tmp.dir, 'b');
    writeBundles(src(small()), a, { fracBits: 13, replicated: true });
    writeBundles(src(small()), b, { fracBits: 13, replicated: true });
    const fromA = ([0, 1, 2] as PartyId[]).map((p) => load(a, p));
    const ok = await runMal3(async (s) => { await checkWeightCopies(s, fromA[s.party]!); return 'ok'; });
    expect(ok.outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    // P1 loads the other import's bundle: its copies differ from its neighbours'.
    const mixed = [fromA[0]!, load(b, 1), fromA[2]!];
    const codes = (r: Awaited<ReturnType<typeof runMal3>>) => r.outcomes.map((o) => (o.status === 'rejected' && isMpcError(o.reason) ? o.reason.code : 'ok'));
    // The two holders of P1's copies see the mismatch; P0's own copies agree with P2's, it learns of the abort at its next receive.
    expect(codes(await runMal3(async (s) => { await checkWeightCopies(s, mixed[s.party]!); return 'ok'; }))).toEqual(['ok', 'E_INTEGRITY', 'E_INTEGRITY']);
    expect(codes(await runMal3(async (s) => { await checkWeightCopies(s, mixed[s.party]!); await prepareWeights(s, mixed[s.party]!); return 'ok'; }))).toEqual(['E_INTEGRITY', 'E_INTEGRITY', 'E_INTEGRITY']);
    // Files: one flipped bit, a truncated file, no replicated shares.
    const file = path.join(a, 'party2', REPLICATED_FILES.b);
    const bytes = readFileSync(file);
    bytes[100]! ^= 1;
    writeFileSync(file, bytes);
    expect(() => load(a, 2)).toThrow(/replicated-b.bin's sha256 does not match/);
    writeFileSync(file, bytes.subarray(16));
    expect(() => load(a, 2)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY' }));
    writeBundles(src(small()), path.join(tmp.dir, 'none'), { fracBits: 13 });
    expect(() => load(path.join(tmp.dir, 'none'), 0)).toThrow(/no replicated weight shares/);
  });
});
