// Request paths → files inside one served folder, or a 4xx saying why. A path is refused before it touches the
// disk when a segment is '..' or '.', holds a slash, a backslash or a NUL once percent-decoded (so '%2e%2e' and
// '%2f' cannot climb out), or does not decode; after the lookup, the real path must still lie inside the
// folder's real path, so a symlink cannot lead out either.
import { realpathSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** What pages, bundles, models and profiles are served as; anything else is a download. */
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
  '.svg': 'image/svg+xml',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

export const mimeOf = (path: string) => MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';

/** The decoded segments of a raw request path (after the mount's prefix). */
export function segmentsOf(rawPath: string): string[] {
  return rawPath.split('/').filter((s) => s !== '').map((raw) => {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, `bad percent-encoding in '${raw}'`);
    }
    if (s === '..' || s === '.' || /[/\\\0]/.test(s)) throw new HttpError(400, `path segment '${raw}' is not allowed (no '..', '.', slashes or NUL)`);
    return s;
  });
}

/** The file `segments` name inside `root` (a folder's index.html for a folder), checked to stay inside it. */
export function fileInside(root: string, segments: readonly string[]): string {
  let real: string;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(join(root, ...segments));
  } catch {
    throw new HttpError(404, `no such file: /${segments.join('/')}`);
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new HttpError(403, `/${segments.join('/')} leads outside the served folder`);
  if (statSync(real).isDirectory()) return fileInside(root, [...segments, 'index.html']);
  return real;
}
