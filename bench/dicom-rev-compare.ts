/**
 * The SDK's DICOM output at another revision against this tree's, frame by frame, on every .dcm file of the given
 * folders: a review check that a change to shared display code (LUTs, palettes, endianness) leaves the files it does
 * not mean to change as they were. The other revision's client-sdk/src and protocol are extracted with `git archive`
 * into a temporary folder (outside the repo) and imported beside this tree's; each frame's 8-bit pixels are hashed
 * (SHA-256) with the display's VOI choice, or the refusal's reason and message, and compared.
 *
 *   npx tsx bench/dicom-rev-compare.ts <rev> <folder>...   e.g. 6fc0dd3 /work/shared/fixtures/dicom
 *
 * Prints one line per differing frame and a count; exit status 0 whatever differs (a difference may be the fix).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Decode = (b: Uint8Array, o: { frame: number }) => Promise<{ data: Uint8Array; display: { frames: number; voi: unknown } }>;
const [rev, ...dirs] = process.argv.slice(2);
if (!rev || dirs.length === 0) throw new Error('usage: npx tsx bench/dicom-rev-compare.ts <rev> <folder>...');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'dicom-rev-'));
try {
  const tar = execFileSync('git', ['-C', root, 'archive', rev, 'client-sdk/src', 'protocol'], { maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', tmp], { input: tar });
  symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));
  const other = (await import(pathToFileURL(join(tmp, 'client-sdk/src/image/dicom.ts')).href)).decodeDicom as Decode;
  const here = (await import('../client-sdk/src/image/dicom.js')).decodeDicom as unknown as Decode;
  const run = async (d: Decode, b: Uint8Array, frame: number): Promise<{ key: string; frames: number }> => {
    try {
      const r = await d(b, { frame });
      return { key: `${createHash('sha256').update(r.data).digest('hex').slice(0, 16)} ${JSON.stringify(r.display.voi)}`, frames: r.display.frames };
    } catch (e) {
      const err = e as { reason?: string; message?: string };
      return { key: `refused ${err.reason ?? ''}: ${err.message ?? String(e)}`, frames: 1 };
    }
  };
  let frames = 0, differ = 0, refusedBoth = 0;
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((x) => x.toLowerCase().endsWith('.dcm')).sort()) {
      const b = new Uint8Array(readFileSync(join(dir, f)));
      const first = await run(other, b, 0);
      for (let fr = 0; fr < first.frames; fr++) {
        const a = fr === 0 ? first : await run(other, b, fr), c = await run(here, b, fr);
        frames++;
        if (a.key.startsWith('refused') && c.key.startsWith('refused')) refusedBoth++;
        if (a.key !== c.key) { differ++; console.log(`DIFF ${join(dir, f)}#${fr}\n  ${rev}: ${a.key}\n  here: ${c.key}`); }
      }
    }
  }
  console.log(`${frames} frames (${refusedBoth} refused by both), ${differ} differ between ${rev} and this tree`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
