/**
 * Crash-safe file writes for Node (used by the model folder handler and checkpoints).
 *
 * A file or folder is written under a temporary name next to its destination and renamed into
 * place, so a crash mid-write never leaves a half-written file where a good one was.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes `data` to `path` atomically: to a temporary file in the same folder (flushed to disk),
 * then renamed over `path`. Creates the parent folder when missing.
 *
 * @internal
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes a whole folder atomically: `fill(tmpDir)` writes the files into a fresh temporary
 * folder beside `dir`; then the old `dir` (if any) is moved aside, the new one renamed into
 * place, and the old one removed. If `fill` throws, `dir` is untouched.
 *
 * @internal
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await fs.mkdir(dirname(dir), { recursive: true });
  const tmp = tempNameFor(dir);
  await fs.mkdir(tmp);
  try {
    await fill(tmp);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = `${tmp}.old`;
  let moved = false;
  try {
    await fs.rename(dir, old);
    moved = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fs.rename(tmp, dir);
  if (moved) await fs.rm(old, { recursive: true, force: true });
}
