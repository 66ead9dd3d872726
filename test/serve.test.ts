// rtsr serve's HTTP side, without a browser: cross-origin isolation headers and MIME types, paths that try to
// leave the served folders ('..', '%2e%2e', '%2f', an absolute URL, a symlink), the model lists, and POST
// /api/profile's checks (method, type, size, validity) and its atomic write. Talks to 127.0.0.1 only.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatProfile, readProfile, type Profile } from '../src/latency/profile-file.js';
import { ZOO_DIR } from '../src/models/zoo.js';
import { MAX_PROFILE_BYTES } from '../src/serve/profile-post.js';
import { createRtsrServer } from '../src/serve/server.js';

const dir = mkdtempSync(join(tmpdir(), 'rtsr-serve-test-'));
const models = join(dir, 'models');
const profiles = join(dir, 'profiles');
const server = createRtsrServer({ modelsDir: models, profilesDir: profiles });
let port = 0;

before(async () => {
  mkdirSync(models);
  copyFileSync(join(ZOO_DIR, 'espcn-x2.rtsr'), join(models, 'mine.rtsr'));
  writeFileSync(join(models, 'broken.rtsr'), 'not a model');
  writeFileSync(join(dir, 'secret.txt'), 'SECRET-CONTENT');
  symlinkSync(join(dir, 'secret.txt'), join(models, 'link.txt'));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request: the path goes out exactly as written (fetch would normalise '..' away). */
function get(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}

test('pages and bundles are served cross-origin isolated with their MIME types', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>rtsr/);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal((await get('/rtsr/rtsr.js')).headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal((await get('/profile.html')).status, 200);
  const model = await get('/zoo/wdsr-b-x2.rtsr', { method: 'HEAD' });
  assert.equal(model.status, 200);
  assert.equal(model.headers['content-type'], 'application/octet-stream');
});

test('the zoo and the models folder are listed; unreadable models say why', async () => {
  const zoo = JSON.parse((await get('/zoo/index.json')).body) as { name: string }[];
  assert.ok(zoo.some((z) => z.name === 'wdsr-b-x2'));
  const mine = JSON.parse((await get('/models/index.json')).body) as { name: string; scale?: number; error?: string }[];
  assert.deepEqual(mine.map((m) => [m.name, m.scale ?? null, Boolean(m.error)]), [['broken', null, true], ['mine', 2, false]]);
  assert.equal((await get('/models/mine.rtsr')).status, 200);
});

test('paths cannot leave the served folders', async () => {
  for (const path of ['/../package.json', '/rtsr/../../package.json', '/%2e%2e/package.json', '/zoo/%2E%2E/package.json', '/zoo/..%2fpackage.json', '/zoo/%2e%2e%2fpackage.json', '/a%00b', '/%E0%A4%A']) {
    const r = await get(path);
    assert.equal(r.status, 400, `${path}: ${r.status} ${r.body}`);
    assert.match(r.body, /not allowed|percent-encoding/);
  }
  assert.equal((await get('http://127.0.0.1/etc/passwd')).status, 400, 'absolute-form request target');
  assert.equal((await get('//etc/passwd')).status, 404, 'a leading double slash is a path inside web/');
  const link = await get('/models/link.txt');
  assert.equal(link.status, 403);
  assert.doesNotMatch(link.body, /SECRET/);
  assert.equal((await get('/nope.html')).status, 404);
  assert.equal((await get('/', { method: 'DELETE' })).status, 405);
});

const profile: Profile = {
  format: 'rtsr-latency-profile',
  version: 1,
  device: { cpu: 'unknown', cores: 4, os: 'Android', node: 'none (browser)', rtsr: '0.1.0', runner: 'compiler-fused', target: 'wasm', compiler: 'Chrome, wasm simd128', threads: 4, userAgent: 'Mozilla/5.0' },
  scale: 2,
  input: { w: 64, h: 36 },
  protocol: { warmup: 1, repeats: 2 },
  load: [],
  measurements: [{ part: { kind: 'head', c: 8 }, ms: 1.5, spread: 0.2, samples: [1, 2] }],
};

test('POST /api/profile: wrong method, type, size or content is refused with the reason', async () => {
  const json = { 'Content-Type': 'application/json' };
  assert.equal((await get('/api/profile')).status, 405);
  assert.equal((await get('/api/profile', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' })).status, 415);
  const big = await get('/api/profile', { method: 'POST', headers: json, body: Buffer.alloc(MAX_PROFILE_BYTES + 1, 32) });
  assert.equal(big.status, 413);
  assert.equal((await get('/api/profile', { method: 'POST', headers: json, body: '{not json' })).status, 400);
  const bad = await get('/api/profile', { method: 'POST', headers: json, body: JSON.stringify({ ...profile, scale: 7 }) });
  assert.equal(bad.status, 422);
  assert.match(bad.body, /'scale' must be 2, 3 or 4/);
  const badUa = await get('/api/profile', { method: 'POST', headers: json, body: JSON.stringify({ ...profile, device: { ...profile.device, userAgent: 5 } }) });
  assert.equal(badUa.status, 422);
  assert.deepEqual(readdirSync(dir).includes('profiles') ? readdirSync(profiles) : [], [], 'nothing written');
});

test('POST /api/profile writes a valid profile under the profiles folder and says where', async () => {
  const r = await get('/api/profile', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: formatProfile(profile) });
  assert.equal(r.status, 201, r.body);
  const { path } = JSON.parse(r.body) as { path: string };
  assert.ok(path.startsWith(profiles + '/') && /Android-wasm-x2-64x36-.*\.json$/.test(path), path);
  assert.deepEqual(readProfile(path), profile);
});
