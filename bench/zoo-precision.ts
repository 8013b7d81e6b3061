/**
 * The precision a zoo row (bench/zoo-models.ts) runs at: what the importer's
 * chooser (model-import/precision.ts choosePrecision, default range margin 4
 * and local-truncation risk limit 1e-6) accepts on the bench's own input(s)
 * at the row's fractional bits. The parties get all three settings: f and the
 * truncation rule in the bundle's manifests, the comparison ring as config
 * compareBits (parties/launch.ts).
 *
 * Why: the zoo rows used to run at their f with local truncation and the
 * default 32-bit ring whatever the chooser would say. On the bench inputs the
 * compared values stay far inside the 32-bit ring (EfficientNet-B0 at f = 16:
 * 41 of 32768), but local truncation's expected wrong elements per inference
 * (|x| / 2^64 summed over the truncated products) is 2e-4 to 4e-3 on the four
 * fixture models, far above the limit, so the importer would take exact
 * truncation for them (BENCHMARKS.md "Zoo models: the configuration each row
 * runs in").
 *
 * The ring rests on the given samples only (no sound bound: no ring holds the
 * interval bound of these deep models, model-import/README.md "Comparison
 * ring: the sound bound"), as an import of them is marked samples-only.
 * One stochastic draw per sample (the chooser's default is 3) keeps this to
 * seconds per model; the error target is the row's f's (explicit: a miss is a
 * warning, printed, not a refusal), while range and risk decide ring and
 * truncation. A candidate set with nothing in range throws E_PRECISION_RANGE.
 */
import type { TruncationMode } from '../protocol/context.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import type { PrecisionChoice, PrecisionSettings } from '../model-import/precision.js';

export type { PrecisionSettings };

export interface ZooPrecision {
  settings: PrecisionSettings;
  /** The chooser's trials, one line each (settings and verdict), and its warnings. */
  lines: string[];
  choice: PrecisionChoice;
}

/** One line for a report row: `f = 16, exact truncation, 32-bit ring`. */
export function precisionLabel(s: { fracBits: number; truncation?: TruncationMode; compareBits?: 32 | 64 }): string {
  return `f = ${s.fracBits}, ${s.truncation ?? 'local'} truncation, ${s.compareBits ?? 32}-bit ring`;
}

/** The chooser at the explicit `fracBits` on `inputs` (real-valued model inputs): the settings the importer would accept. */
export async function zooPrecision(model: ModelIR<FloatTensor>, inputs: readonly ArrayLike<number>[], fracBits: number): Promise<ZooPrecision> {
  const { choosePrecision } = await import('../model-import/precision.js');
  const choice = choosePrecision(model, inputs, { fracBits, draws: 1 });
  const lines = choice.trials.map((t) => `${precisionLabel(t.settings)}: ${t.verdict}${t.risk !== undefined && t.settings.truncation === 'local' ? `, local-truncation risk ${t.risk.toExponential(2)} wrong elements per inference` : ''}${t.worst ? `, tightest compared '${t.worst.layer}' ${t.worst.maxAbs.toPrecision(3)} of ${t.worst.allowed.toPrecision(3)} allowed` : ''}${t.error !== undefined ? `, simulated error ${t.error.toExponential(2)}` : ''}`);
  for (const w of choice.warnings) lines.push(`warning: ${w}`);
  return { settings: choice.settings, lines, choice };
}
