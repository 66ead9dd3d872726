// `rtsr serve`'s HTTP server (node:http, no framework): the pages (web/), the browser bundles (dist/web), the zoo
// and the user's models folder, each with a JSON list, and POST /api/profile for the profiling page. Every reply
// carries COOP/COEP, so pages are cross-origin isolated and the wasm target gets its worker threads. Requests
// never name a file outside these folders (paths.ts) and nothing they carry is executed.
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { loadModel } from '../models/model-io.js';
import { listZoo, ZOO_DIR, zooEntry, type ZooEntry } from '../models/zoo.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { fileInside, HttpError, mimeOf, segmentsOf } from './paths.js';
import { receiveProfile } from './profile-post.js';

export interface ServeOptions {
  /** The user's model files, served under /models/ (none when undefined). */
  readonly modelsDir?: string;
  /** Where posted profiles are written. */
  readonly profilesDir: string;
  readonly log?: (line: string) => void;
}

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

/** A folder's models as the zoo lists them; a file rtsr cannot read is listed with its error. */
function listModels(dir: string): (ZooEntry | { name: string; error: string })[] {
  return readdirSync(dir).filter((f) => f.endsWith('.rtsr')).sort().map((f) => {
    const name = f.slice(0, -'.rtsr'.length);
    try {
      const { model, info } = loadModel(join(dir, f));
      return zooEntry(name, model, info);
    } catch (err) {
      return { name, error: (err as Error).message };
    }
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...ISOLATION, 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body) + '\n');
}

function sendFile(req: IncomingMessage, res: ServerResponse, path: string): void {
  res.writeHead(200, { ...ISOLATION, 'Content-Type': mimeOf(path), 'Content-Length': statSync(path).size });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(path).pipe(res);
}

export function createRtsrServer(o: ServeOptions): Server {
  const mounts: Record<string, string | undefined> = {
    rtsr: join(PACKAGE_ROOT, 'dist/web'),
    zoo: ZOO_DIR,
    models: o.modelsDir,
  };
  const lists: Record<string, () => unknown> = {
    zoo: () => listZoo(),
    models: () => (o.modelsDir ? listModels(o.modelsDir) : []),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '';
    // Origin-form only ('/path?query'): an absolute URL or '*' as the request target is not a file here.
    if (!raw.startsWith('/')) throw new HttpError(400, `request target must be a path, got '${raw.slice(0, 80)}'`);
    const segments = segmentsOf(raw.split(/[?#]/)[0]);
    if (segments[0] === 'api' && segments[1] === 'profile' && segments.length === 2) {
      if (req.method !== 'POST') throw new HttpError(405, 'POST a profile to /api/profile');
      const path = await receiveProfile(req, o.profilesDir);
      o.log?.(`profile received: ${path}`);
      return sendJson(res, 201, { path });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not served here (GET, HEAD; POST /api/profile)`);
    const [first, ...rest] = segments;
    if (first !== undefined && Object.hasOwn(lists, first) && rest.length === 1 && rest[0] === 'index.json') return sendJson(res, 200, lists[first]());
    if (first !== undefined && Object.hasOwn(mounts, first)) {
      const root = mounts[first];
      if (!root) throw new HttpError(404, `nothing is served under /${first}/ (rtsr serve --models DIR serves a folder of models)`);
      return sendFile(req, res, fileInside(root, rest));
    }
    sendFile(req, res, fileInside(join(PACKAGE_ROOT, 'web'), segments));
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status === 500) o.log?.(`error: ${req.method} ${req.url}: ${message}`);
      if (res.headersSent) return void res.destroy();
      // A refused upload is answered at once: the rest of its body is not read.
      res.writeHead(status, { ...ISOLATION, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(`${status}: ${message}\n`);
    });
  });
}
