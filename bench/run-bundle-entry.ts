/**
 * Entry of the self-contained bundle of `npm run bench` (bench/run.ts) that
 * bench/cuda-device.sh packs for the GPU machine, which has no node_modules
 * and no tsx: model-import is linked in, as the bundled party program does
 * (parties/bundle-entry.ts), since parties/model-source.ts would otherwise
 * look for model-import's sources by path and fall back to development
 * model files (refused for exact truncation, e.g. DenseNet-121's).
 */
import * as modelImport from '../model-import/bundle.js';
import { useModelImport } from '../parties/model-source.js';

useModelImport(modelImport);
await import('./run.js');
