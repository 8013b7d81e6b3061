import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, MpcError } from './errors.js';

describe('error registry', () => {
  it('documents every code in docs/ERRORS.md with its HTTP and gRPC status', () => {
    const doc = readFileSync(new URL('../docs/ERRORS.md', import.meta.url), 'utf8');
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\| ${spec.http} \\| ${spec.grpc} \\|`));
    }
  });
  it('serialises code, party and step, and maps statuses from the registry', () => {
    const e = new MpcError('E_SHAPE', 'relu: expected 4 elements, got 3', { party: 1, step: 'relu' });
    expect(e.toJSON()).toEqual({ code: 'E_SHAPE', message: 'relu: expected 4 elements, got 3', party: 1, step: 'relu' });
    expect(e.httpStatus).toBe(400);
    expect(e.grpcStatus).toBe(3);
  });
});
