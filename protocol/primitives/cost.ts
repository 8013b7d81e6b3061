/** Declared cost of a protocol: rounds (Lamport depth) and bytes sent by all three parties together. */
export interface Cost {
  rounds: number;
  bytes: number;
}

export const addCost = (...cs: Cost[]): Cost => ({ rounds: cs.reduce((s, c) => s + c.rounds, 0), bytes: cs.reduce((s, c) => s + c.bytes, 0) });
export const scaleBytes = (c: Cost, k: number): Cost => ({ rounds: c.rounds, bytes: c.bytes * k });
