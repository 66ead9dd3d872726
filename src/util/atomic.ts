// Durable file writes: a temp file in the same folder, fsync, then rename, so a reader (or a killed run)
// sees either the old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** `.<name>.<pid>.<8 hex>.tmp`: the pid tells a later run whether the writer is gone. */
const TEMP = /^\..*\.(\d+)\.[0-9a-f]{8}\.tmp$/;
const tempName = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);

/** With `replace: false` an existing file at `path` is left alone and the write fails with EEXIST, decided
 *  when the file is put in place (a hard link cannot replace), not by an earlier look that could be stale. */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[] | Uint8Array | string, { replace = true } = {}): void {
  const tmp = tempPathFor(path);
  const parts = typeof chunks === 'string' ? [Buffer.from(chunks)] : chunks instanceof Uint8Array ? [chunks] : chunks;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      for (const c of parts) writeSync(fd, c);
    } finally {
      closeSync(fd);
    }
    commitTemp(tmp, path, { replace });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A fresh temp path beside `path` (its folder created, dead writers' temps swept), for a file that another
 *  process writes (ffmpeg) before commitTemp puts it in place. */
export function tempPathFor(path: string): string {
  makeFolder(dirname(path));
  sweepOnce(dirname(path));
  return tempName(path);
}

/** Puts the finished temp file `tmp` at `path`: fsync, then rename (or, with `replace: false`, a hard link that
 *  fails on an existing file), then fsync the folder. The caller removes `tmp` afterwards, whatever happened
 *  (a hard link leaves it, a failure too). */
export function commitTemp(tmp: string, path: string, { replace = true } = {}): void {
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (replace) renameSync(tmp, path);
  else putNew(tmp, path);
  fsyncFolder(dirname(path));
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Puts `tmp` at `path` unless a file is there. Where the file system has no hard links (FAT, some network
 *  shares), a look just before the rename has to do. */
function putNew(tmp: string, path: string): void {
  try {
    linkSync(tmp, path);
  } catch (err) {
    if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    if (existsSync(path)) throw Object.assign(new Error(`EEXIST: file already exists, '${path}'`), { code: 'EEXIST', path });
    renameSync(tmp, path);
  }
}

/** Makes the new name itself durable: without it, a power cut after rename can bring back the old file.
 *  Best effort: some file systems refuse fsync on a folder, and the file is in place either way. */
function fsyncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // the write itself succeeded
  }
}

/** Creates `dir` and its missing parents one level at a time. `mkdir -p` in node loops forever where mkdir
 *  answers ENOENT although the parent exists (under /proc); here that error reaches the caller. */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Proves that files can be created in `dir` (permissions, read-only or pseudo file systems) before any
 *  work is spent on what would be written there. */
export function checkWritable(dir: string): void {
  const probe = tempName(join(dir, 'rtsr-probe'));
  closeSync(openSync(probe, 'wx'));
  rmSync(probe);
}

const swept = new Set<string>();

/** writeFileAtomic sweeps each folder it writes to once per run. */
function sweepOnce(dir: string): void {
  if (swept.has(resolve(dir))) return;
  swept.add(resolve(dir));
  removeStaleTemps(dir);
}

/** Deletes the temp files of writers that were killed (their process is gone; a live one may still be about
 *  to rename its file). */
export function removeStaleTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pid = TEMP.exec(name)?.[1];
    if (pid !== undefined && !alive(Number(pid))) rmSync(join(dir, name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
