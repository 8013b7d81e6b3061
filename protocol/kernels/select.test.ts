import { describe, expect, it } from 'vitest';
import { cudaStatus } from './cuda/index.js';
import { kernelsFor } from './select.js';

describe('kernel backend selection (cpu | cuda | auto)', () => {
  const s = cudaStatus();
  const gpu = s.built && s.deviceCount > 0;
  it('auto gives CUDA where a device exists, else the CPU kernels', () => {
    expect(kernelsFor('auto').name).toBe(gpu ? 'cuda' : kernelsFor('cpu').name);
    expect(['native', 'ts']).toContain(kernelsFor('cpu').name);
  });
  it.skipIf(gpu)('cuda without a device fails with E_NATIVE and says why', () => {
    expect(() => kernelsFor('cuda')).toThrow(expect.objectContaining({ code: 'E_NATIVE' }));
  });
  it('refuses an unknown backend name', () => {
    expect(() => kernelsFor('gpu' as never)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
});
