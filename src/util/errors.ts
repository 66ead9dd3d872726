// Errors the user can act on. The CLI prints their message as one line and exits 2 (as for CliError, which
// the option parser throws); any other error is a runtime failure and exits 1.

/** The user's input is at fault: a file that does not decode, an image too small or too large, an output
 *  path that cannot be used. Thrown below the CLI, where CliError would be the wrong layer. */
export class InputError extends Error {}

const CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  // Where the parent folder exists (we create folders one level at a time), ENOENT means the file system
  // refuses new entries, as /proc does.
  ENOENT: 'the file system does not allow creating it',
};

/** A file-system error as a short cause ("read-only file system"), its code in parentheses. */
export function fsCause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  return code ?? (err as Error).message;
}
