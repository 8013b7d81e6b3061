/**
 * vitest setup (vitest.config.ts setupFiles): every test file gets the
 * kernels a party server gets, handed in by the runtime layer
 * (runtime/kernels.ts): the native addon when built, MPC_KERNELS, the
 * AES-NI PRG. Without it protocol/ would run on the TS kernels.
 */
import '../../runtime/install.js';
