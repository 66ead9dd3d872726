// Durable file writes: a temp file in the same folder, fsync, then rename, so a reader (or a killed run)
// sees either the old file or the new one, never half of one.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

export function writeFileAtomic(path: string, chunks: readonly Uint8Array[] | Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const parts = typeof chunks === 'string' ? [Buffer.from(chunks)] : chunks instanceof Uint8Array ? [chunks] : chunks;
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of parts) writeSync(fd, c);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function sha256(chunks: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

/** Deletes the temp files writeFileAtomic left in `dir` for any of `names` when killed mid-write: those whose
 *  writing process is gone (a live one may still be about to rename its file). */
export function removeStaleTemps(dir: string, names: readonly string[]): void {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)) {
    const m = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(file);
    if (m && names.includes(m[1]) && !alive(Number(m[2]))) rmSync(join(dir, file), { force: true });
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
