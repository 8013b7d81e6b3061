/**
 * Comparison dispatch by ctx.comparison: 'direct' (relu-direct.ts, default)
 * or 'securenn' (the paper's drelu.ts / relu.ts). Cost functions take the
 * same mode so declarations follow the route actually run.
 */
import type { ComparisonMode, PartyContext } from '../context.js';
import type { AShare } from '../ring/types.js';
import type { Cost } from './cost.js';
import { drelu, dreluCost } from './drelu.js';
import { relu, reluCost } from './relu.js';
import { dreluDirect, dreluDirectCost, reluDirect, reluDirectCost } from './relu-direct.js';

export const dreluFor = (ctx: PartyContext, a: AShare, label?: string): Promise<AShare> => (ctx.comparison === 'direct' ? dreluDirect : drelu)(ctx, a, label);
export const reluFor = (ctx: PartyContext, a: AShare, label?: string): Promise<AShare> => (ctx.comparison === 'direct' ? reluDirect : relu)(ctx, a, label);
/** compareBits: the direct route's comparison ring (ctx.compareBits); the paper route ignores it. */
export const dreluCostFor = (n: number, mode: ComparisonMode = 'direct', compareBits: 32 | 64 = 64): Cost => (mode === 'direct' ? dreluDirectCost(n, compareBits) : dreluCost(n));
export const reluCostFor = (n: number, mode: ComparisonMode = 'direct', compareBits: 32 | 64 = 64): Cost => (mode === 'direct' ? reluDirectCost(n, compareBits) : reluCost(n));
