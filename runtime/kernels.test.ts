import { describe, expect, it } from 'vitest';
import { cudaStatus } from './cuda-addon.js';
import { createContext } from '../protocol/context.js';
import { Prg } from '../protocol/correlated/prg.js';
import { getKernels } from '../protocol/kernels/index.js';
import { provideKernels, provision } from '../protocol/kernels/provision.js';
import { tsKernels } from '../protocol/kernels/ts.js';
import { memoryTransports } from '../protocol/transport/memory.js';
import { installRuntimeKernels, kernelsFor } from './kernels.js';
import { loadNativeAddon, loadNativeKernels } from './native-addon.js';

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

describe('the runtime hands protocol/ its kernels (protocol/kernels/provision.ts)', () => {
  const native = loadNativeKernels();
  const addon = loadNativeAddon();
  const aes = !!addon && addon.aesAvailable() && process.env.MPC_PRG !== 'node';

  it('after installRuntimeKernels(): getKernels() is the loaded addon (or ts when it is not built), a context without kernels gets kernelsFor()', () => {
    installRuntimeKernels();
    const cpuDefault = process.env.MPC_KERNELS === 'ts' ? tsKernels : native ?? tsKernels;
    expect(getKernels()).toBe(cpuDefault);
    expect(getKernels('ts')).toBe(tsKernels);
    if (native) expect(getKernels('native')).toBe(native);
    const [t] = memoryTransports();
    expect(createContext(0, t!, { pair: [undefined, new Uint8Array(16), new Uint8Array(16)], own: new Uint8Array(16) }).kernels).toBe(kernelsFor());
    expect(new Prg(new Uint8Array(16)).backend).toBe(aes ? 'aes-ni' : 'node');
  });

  it('without a provision protocol/ runs on the TS kernels and node:crypto, with the same PRG bytes', () => {
    installRuntimeKernels();
    const saved = provision();
    const seed = new Uint8Array(16).fill(7);
    const fast = new Prg(seed).bytes(1000);
    try {
      provideKernels({ native: null, nativeError: 'no addon here', cpuDefault: 'auto', contextDefault: () => tsKernels, prg: null });
      expect(getKernels()).toBe(tsKernels);
      expect(() => getKernels('native')).toThrow(expect.objectContaining({ code: 'E_NATIVE', message: 'no addon here' }));
      const slow = new Prg(seed);
      expect(slow.backend).toBe('node');
      expect(slow.bytes(1000)).toEqual(fast);
    } finally {
      provideKernels(saved);
    }
    expect(getKernels()).toBe(saved.native ?? tsKernels);
  });
});
