/**
 * Crash-safe file writes and guarded file reads for Node (used by the model folder handler and
 * checkpoints).
 *
 * A file or folder is written under a temporary name next to its destination
 * (`.NAME.tmp-PID-RANDOM`), flushed to disk (every file, then the folder), and renamed into
 * place, so a crash or a power cut mid-write never leaves a half-written file where a good one
 * was. Temporary files left by a process that died mid-write are removed by the next write into
 * the same folder.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { ArgumentError } from '../errors.js';

/** `.NAME.tmp-PID-HEX` or `.NAME.tmp-PID-HEX.old`: the temporary names written here. */
const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}(\.old)?$/;

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Whether a process with this id is running (EPERM: it runs, under another user). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files and folders that a dead process left in `folder`. A `.old` copy
 * whose destination is missing (the process died between its two renames) is moved back into
 * place rather than removed, so the previous good version survives.
 */
async function removeStaleTemps(folder: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(folder);
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = TEMP_NAME.exec(entry);
    if (match === null || processAlive(Number(match[2]))) continue;
    const path = join(folder, entry);
    try {
      if (match[3] !== undefined) {
        const destination = join(folder, match[1]!);
        const exists = await fs.lstat(destination).then(
          () => true,
          () => false,
        );
        if (!exists) {
          await fs.rename(path, destination);
          continue;
        }
      }
      await fs.rm(path, { recursive: true, force: true });
    } catch {
      // Another process cleaned it up first, or it is not ours to remove: leave it.
    }
  }
}

/** Flushes a file or folder to disk. Folders cannot be opened for fsync on Windows: skipped there. */
async function syncPath(path: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (e) {
    if (process.platform === 'win32') return;
    throw e;
  }
  try {
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!(process.platform === 'win32' || code === 'EINVAL' || code === 'EISDIR')) throw e;
  } finally {
    await handle.close();
  }
}

/** Flushes every file under `dir` (recursively), then `dir` itself. */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) await syncPath(path);
  }
  await syncPath(dir);
}

/**
 * Writes `data` to `path` atomically: to a temporary file in the same folder (flushed to disk),
 * then renamed over `path`, then the folder flushed. Creates the parent folder when missing.
 * A folder at `path`, or a file where a parent folder belongs, throws an {@link ArgumentError}
 * naming `fn` and its argument `path`.
 *
 * @internal
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, fn = 'writeFileAtomic'): Promise<void> {
  const existing = await fs.lstat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new ArgumentError({ fn, arg: 'path', expected: 'name a file to write', received: `'${path}', which is a folder` });
  }
  try {
    await fs.mkdir(dirname(path), { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ArgumentError({
      fn,
      arg: 'path',
      expected: 'be inside a folder that exists or can be created',
      received: `'${path}' (${code === 'EEXIST' || code === 'ENOTDIR' ? 'a parent is a file, not a folder' : code})`,
    });
  }
  await removeStaleTemps(dirname(path));
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
  await syncPath(dirname(path));
}

/**
 * Writes a whole folder atomically: `fill(tmpDir)` writes the files into a fresh temporary
 * folder beside `dir`; every file and the folder are flushed to disk; then the old `dir` (if
 * any) is moved aside, the new one renamed into place, the parent folder flushed, and the old
 * one removed. If `fill` throws, `dir` is untouched.
 *
 * @internal
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  await removeStaleTemps(parent);
  const tmp = tempNameFor(dir);
  await fs.mkdir(tmp);
  try {
    await fill(tmp);
    await syncTree(tmp);
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
  await syncPath(parent);
  if (moved) await fs.rm(old, { recursive: true, force: true });
}

/** Why {@link readRegularFile} refused or failed to read a file; `reason` completes "received ...". @internal */
export class UnreadableFileError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Opens `path` for reading only if it is a regular file that is not a symbolic link (refused
 * with `lstat`, and again by opening with `O_NOFOLLOW`, so swapping in a link between the two
 * does not help); a FIFO, a device such as `/dev/zero` or a folder is refused without reading.
 * `check(size)` runs on the file's size before any byte is read and may throw. Reads exactly
 * that many bytes.
 *
 * @internal
 */
export async function readRegularFile(path: string, check: (size: number) => void = () => {}): Promise<Buffer> {
  let stat: Stats;
  try {
    stat = await fs.lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UnreadableFileError(code === 'ENOENT' ? 'no such file' : `an unreadable file (${code})`);
  }
  if (stat.isSymbolicLink()) throw new UnreadableFileError('a symbolic link (only regular files are read, links are refused)');
  if (!stat.isFile()) {
    const kind = stat.isDirectory() ? 'a folder' : stat.isFIFO() ? 'a FIFO' : stat.isSocket() ? 'a socket' : 'a device';
    throw new UnreadableFileError(`${kind}, not a regular file`);
  }
  // O_NONBLOCK: a FIFO swapped in after the lstat cannot block the open.
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UnreadableFileError(
      code === 'ELOOP' ? 'a symbolic link (only regular files are read, links are refused)' : `an unreadable file (${code})`,
    );
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile() || opened.ino !== stat.ino || opened.dev !== stat.dev) {
      throw new UnreadableFileError('a file replaced while it was being opened');
    }
    check(opened.size);
    const buffer = Buffer.alloc(opened.size);
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, offset);
      if (bytesRead === 0) throw new UnreadableFileError(`a file that shrank while it was read (${offset} of ${buffer.length} bytes)`);
      offset += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
}
