/**
 * Builds the browser bundle dist/browser.js (ESM) from src/browser.ts with
 * esbuild. `npm run build:sdk`, or import buildBrowserBundle() (tests).
 * A Node import anywhere in the browser graph fails the build (platform 'browser').
 */
import { build, type Metafile } from 'esbuild';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export const BROWSER_ENTRY = fileURLToPath(new URL('./src/browser.ts', import.meta.url));
export const BROWSER_BUNDLE = fileURLToPath(new URL('./dist/browser.js', import.meta.url));
/**
 * The DICOM codecs' WebAssembly (dcmjs-codecs), which the browser SDK fetches from
 * ./dicom-codecs.wasm next to the bundle the first time it meets a compressed DICOM file:
 * serve this file under that name beside sdk.js (client-sdk/README.md).
 */
export const DICOM_CODECS_WASM: string = require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm');

export async function buildBrowserBundle(outfile: string = BROWSER_BUNDLE): Promise<Metafile> {
  const r = await build({
    entryPoints: [BROWSER_ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    // One dcmjs: dcmjs-codecs requires its CommonJS build, so image/dicom.ts gets the same one.
    alias: { dcmjs: require.resolve('dcmjs') },
  });
  return r.metafile;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const meta = await buildBrowserBundle(process.argv[2]);
  for (const [file, info] of Object.entries(meta.outputs)) console.log(`${file}: ${info.bytes} bytes`);
}
