// `rtsr upscale`: single files, folders and globs in, PNGs out with exactly the compiled model's pixels; glob
// expansion; usage errors; nothing overwritten unasked, nothing half-written, every good file of a batch written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expandGlob } from '../src/cli/upscale.js';
import { getTarget } from '../src/targets/registry.js';
import { compile } from '../src/compiler/compile.js';
import { rgbImage } from '../src/image/image.js';
import { readImage, writePng } from '../src/image/io.js';
import { saveModel } from '../src/models/model-io.js';
import { randomModel } from './compiler-support.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const webgpu = await getTarget('webgpu');
const webgpuMissing = await webgpu.unavailable();
const dir = mkdtempSync(join(tmpdir(), 'rtsr-upscale-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, RTSR_CACHE_DIR: join(dir, 'cache') };
const model = randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":9,"m2":3}]}', 2, 1);
const modelPath = join(dir, 'm.rtsr');
saveModel(modelPath, model);

const rtsrWith = (opts: SpawnSyncOptions, ...args: string[]) =>
  spawnSync(process.execPath, [MAIN, 'upscale', ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000, ...opts }) as { status: number | null; stderr: string };
const rtsr = (...args: string[]) => rtsrWith({}, ...args);

async function image(path: string, w: number, h: number, seed: number): Promise<void> {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  await writePng(join(dir, path), rgbImage(w, h, Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 31 + seed * 7) & 255)));
}

test('expandGlob: * and ? within a name, [..] classes, ** across folders, hidden files only when asked', () => {
  const g = join(dir, 'glob');
  for (const f of ['a1.png', 'a2.png', 'b.png', 'x/c.png', 'x/y/d.png', '.h.png', 'x/.e.png', 'note.txt']) {
    mkdirSync(join(g, f, '..'), { recursive: true });
    writeFileSync(join(g, f), '');
  }
  const rel = (p: string) => expandGlob(join(g, p)).map((f) => f.slice(g.length + 1));
  assert.deepEqual(rel('*.png'), ['a1.png', 'a2.png', 'b.png']);
  assert.deepEqual(rel('a?.png'), ['a1.png', 'a2.png']);
  assert.deepEqual(rel('[ab]*.png'), ['a1.png', 'a2.png', 'b.png']);
  assert.deepEqual(rel('[!a]*.png'), ['b.png']);
  assert.deepEqual(rel('**/*.png'), ['a1.png', 'a2.png', 'b.png', 'x/c.png', 'x/y/d.png']);
  assert.deepEqual(rel('x/**/d.png'), ['x/y/d.png']);
  assert.deepEqual(rel('.*.png'), ['.h.png']);
  assert.deepEqual(rel('*.jpg'), []);
});

test('a file, a folder and a glob upscale to PNGs holding exactly runImage’s pixels', async () => {
  await image('in/a.png', 17, 9, 1);
  await image('in/b.png', 5, 3, 2);
  await image('in/sub/c.png', 12, 10, 3);
  const compiled = await compile(model, { target: await getTarget('native'), tune: false, cacheDir: env.RTSR_CACHE_DIR });
  const expect = async (src: string, out: string) => {
    const got = await readImage(join(dir, out));
    assert.deepEqual(got, await compiled.runImage(await readImage(join(dir, src))), `${src} → ${out}`);
  };

  let r = rtsr('in/a.png', 'a2x.png', '--model', modelPath);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /1 image upscaled ×2 with m \(native\) in [\d.]+ s → a2x\.png/);
  await expect('in/a.png', 'a2x.png');

  r = rtsr('in', 'out', '--model', modelPath);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['a.png', 'b.png']);
  await expect('in/b.png', 'out/b.png');

  r = rtsr('in/**/*.png', 'globbed', '--model', modelPath, '--target', 'reference');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'globbed')).sort(), ['a.png', 'b.png', 'c.png']);
  await expect('in/sub/c.png', 'globbed/c.png');
});

test('--target webgpu writes the WebGPU target\'s runImage pixels; --precision f16 needs shader-f16', { skip: webgpuMissing ?? false }, async (t) => {
  await image('gpu/a.png', 19, 7, 5);
  let r = rtsr('gpu/a.png', 'gpu2x.png', '--model', modelPath, '--target', 'webgpu');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /1 image upscaled ×2 with m \(webgpu\)/);
  const compiled = await compile(model, { target: webgpu, tune: false });
  assert.deepEqual(await readImage(join(dir, 'gpu2x.png')), await compiled.runImage(await readImage(join(dir, 'gpu/a.png'))));
  await compiled.dispose();
  const f16 = await webgpu.unavailable('f16');
  if (!f16) return t.skip('this adapter has shader-f16: f16 is accepted');
  r = rtsr('gpu/a.png', 'gpu16.png', '--model', modelPath, '--target', 'webgpu', '--precision', 'f16');
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('rtsr:')).join('\n'), `rtsr: --target webgpu does not run here in f16: ${f16}`);
});

test('usage errors say what is wrong and exit with status 2', async () => {
  await image('clash/a.png', 3, 3, 4);
  writeFileSync(join(dir, 'clash/a.bmp'), Buffer.from('BM'));
  const cases: [string[], RegExp][] = [
    [['in/a.png', 'x.png'], /usage: rtsr upscale IN OUT --model/],
    [['nothere', 'x', '--model', modelPath], /nothere: no such file or folder/],
    [['in/*.jpg', 'x', '--model', modelPath], /in\/\*\.jpg: the pattern matches no image files/],
    [['in/a.png', 'x.jpg', '--model', modelPath], /x\.jpg: the output must be a \.png file or a folder/],
    [['clash', 'x', '--model', modelPath], /clash\/a\.bmp and clash\/a\.png would both be written to x\/a\.png/],
    [['in', 'x', '--model', modelPath, '--target', 'gpu'], /--target must be native, reference, wasm or webgpu, not 'gpu'/],
    [['in', 'x', '--model', 'no-such-model'], /no model file 'no-such-model' and no zoo model of that name/],
    [['in', 'x', '--model', modelPath, '--precision', 'f8'], /--precision must be f32 or f16, not 'f8'/],
    [['in', 'x', '--model', modelPath, '--target', 'reference', '--precision', 'f16'], /--target reference does not run here in f16: the reference target stores f32 only/],
  ];
  for (const [args, message] of cases) {
    const r = rtsr(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

const bytes = (path: string) => readFileSync(join(dir, path));
const dims = (img: { width: number; height: number }) => [img.width, img.height];

test('an input is never written over: named as the output, through a symlinked folder, or with --overwrite', async () => {
  await image('self/x.png', 6, 4, 5);
  const before = bytes('self/x.png');
  for (const extra of [[], ['--overwrite']]) {
    let r = rtsr('self/x.png', 'self/x.png', '--model', modelPath, ...extra);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /writing self\/x\.png would overwrite the input self\/x\.png/);
    symlinkSync(join(dir, 'self'), join(dir, 'link'));
    r = rtsr('link', 'self', '--model', modelPath, ...extra);
    rmSync(join(dir, 'link'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /writing self\/x\.png would overwrite the input link\/x\.png/);
  }
  assert.deepEqual(bytes('self/x.png'), before);
});

test('existing outputs are an error naming them and nothing is written, unless --overwrite', async () => {
  // A *.jpg glob into its own folder, where an unrelated p.png already exists.
  mkdirSync(join(dir, 'jpgs'));
  for (const n of ['a', 'p']) await sharp({ create: { width: 5, height: 4, channels: 3, background: '#48c' } }).jpeg().toFile(join(dir, `jpgs/${n}.jpg`));
  writeFileSync(join(dir, 'jpgs/p.png'), 'my own file');
  let r = rtsr('jpgs/*.jpg', 'jpgs', '--model', modelPath);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^rtsr: jpgs\/p\.png already exists; nothing was written \(pass --overwrite to replace it\)\n$/);
  assert.deepEqual(readdirSync(join(dir, 'jpgs')).sort(), ['a.jpg', 'p.jpg', 'p.png']);
  assert.equal(bytes('jpgs/p.png').toString(), 'my own file');

  await image('three/a.png', 4, 3, 6);
  await image('three/b.png', 4, 3, 7);
  await image('three/c.png', 4, 3, 8);
  mkdirSync(join(dir, 'three-out'));
  for (const n of ['a', 'c']) writeFileSync(join(dir, `three-out/${n}.png`), 'old');
  r = rtsr('three', 'three-out', '--model', modelPath);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /2 of the 3 outputs already exist \(three-out\/a\.png, three-out\/c\.png\); nothing was written \(pass --overwrite to replace them\)/);
  assert.deepEqual(readdirSync(join(dir, 'three-out')).sort(), ['a.png', 'c.png']);

  r = rtsr('three', 'three-out', '--model', modelPath, '--overwrite');
  assert.equal(r.status, 0, r.stderr);
  for (const n of ['a', 'b', 'c']) assert.deepEqual(dims(await readImage(join(dir, `three-out/${n}.png`))), [8, 6]);
});

test('an output folder that cannot be created fails at once, in one line naming it', async () => {
  await image('one.png', 4, 4, 9);
  // `mkdir -p` spun forever here.
  const r = rtsrWith({ timeout: 20_000 }, 'one.png', '/proc/rtsr-sub/o.png', '--model', modelPath);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, 'rtsr: cannot create folder /proc/rtsr-sub: the file system does not allow creating it (ENOENT)\n');
});

// Root ignores permissions, so the read-only case runs as nobody, who must be able to read the checkout: one
// cloned into a `mktemp -d` folder (mode 700) is not readable to others.
const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
const nobodyCannotRead =
  'uid' in asNobody && spawnSync(process.execPath, [MAIN, '--help'], { ...asNobody, stdio: 'ignore' }).status !== 0
    ? `run as root, and user nobody (who must run the read-only case) cannot read ${MAIN}: make the checkout readable to others`
    : false;

test('a folder that cannot be written to fails at once, in one line naming it', { skip: nobodyCannotRead }, async () => {
  await image('one.png', 4, 4, 9);
  mkdirSync(join(dir, 'ro'));
  chmodSync(join(dir, 'ro'), 0o555);
  chmodSync(dir, 0o755);
  const r = rtsrWith(asNobody, 'one.png', 'ro/o.png', '--model', modelPath);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, 'rtsr: cannot write to ro: permission denied (EACCES)\n');
});

test('a bad file in a batch: every good file is written, the bad one named with its reason, a summary, exit 2', async () => {
  await image('batch/a.png', 4, 3, 10);
  writeFileSync(join(dir, 'batch/b.png'), 'not a png');
  await image('batch/c.png', 4, 3, 11);
  const r = rtsr('batch', 'batch-out', '--model', modelPath);
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'batch-out')).sort(), ['a.png', 'c.png']);
  assert.match(r.stderr, /^rtsr: cannot decode image batch\/b\.png: .*\n2 images upscaled ×2 with m \(native\) in [\d.]+ s → batch-out\nrtsr: 1 of 3 images failed: batch\/b\.png\n$/);
});

test('a dropped alpha channel is said once per run', async () => {
  mkdirSync(join(dir, 'alpha'));
  for (const n of ['p', 'q']) await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 9, g: 99, b: 199, alpha: 0.5 } } }).png().toFile(join(dir, `alpha/${n}.png`));
  await image('alpha/r.png', 4, 4, 12);
  const r = rtsr('alpha', 'alpha-out', '--model', modelPath);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^note: alpha channel dropped \(outputs are RGB\) from 2 images: alpha\/p\.png, alpha\/q\.png\n3 images upscaled/);
});

test('an image whose upscaled result cannot be held is refused, naming it and the sizes', async () => {
  const x4Path = join(dir, 'x4.rtsr');
  saveModel(x4Path, randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":9,"m2":3}]}', 4, 2));
  await sharp({ create: { width: 9500, height: 9500, channels: 3, background: '#808080' } }).png().toFile(join(dir, 'wide.png'));
  const r = rtsr('wide.png', 'wide-x4.png', '--model', x4Path);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^rtsr: wide\.png upscaled ×4: 38000x38000 \(1444 megapixels\) needs 4\.33 GB of RGB pixels, more than the 4\.29 GB one image can hold\n$/);
});

/** Runs upscale noise.png → kill/ and kills it with SIGKILL the moment writing starts (its temp file appears,
 *  or the file there is touched); false when the run ended before that was seen. */
async function killWhileWriting(): Promise<boolean> {
  const was = statSync(join(dir, 'kill/noise.png'));
  const child = spawn(process.execPath, [MAIN, 'upscale', 'noise.png', 'kill', '--model', modelPath, '--overwrite'], { cwd: dir, env, stdio: 'ignore' });
  const exited = new Promise((done) => child.on('exit', done));
  let killed = false;
  while (!killed && child.exitCode === null) {
    const s = statSync(join(dir, 'kill/noise.png'));
    const temp = readdirSync(join(dir, 'kill')).some((n) => n.startsWith('.noise.png.'));
    if (temp || s.ino !== was.ino || s.size !== was.size || s.mtimeMs !== was.mtimeMs) killed = child.kill('SIGKILL');
    await new Promise((tick) => setImmediate(tick));
  }
  await exited;
  return killed;
}

test('kill -9 while the output is written leaves the old file or a complete PNG, and no temp file for long', async () => {
  await image('noise.png', 1200, 900, 13);
  mkdirSync(join(dir, 'kill'));
  await image('kill/noise.png', 2, 2, 14);
  // A run that finishes between two looks is tried again; the old code was caught on every first try.
  let killed = false;
  for (let attempt = 0; attempt < 5 && !killed; attempt++) {
    const old = bytes('kill/noise.png');
    killed = await killWhileWriting();
    if (!bytes('kill/noise.png').equals(old)) assert.deepEqual(dims(await readImage(join(dir, 'kill/noise.png'))), [2400, 1800], 'a complete PNG');
  }
  assert.ok(killed, 'a run was killed while writing');
  // The next write into the folder removes what the killed run left.
  const r = rtsr('noise.png', 'kill', '--model', modelPath, '--overwrite');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'kill')), ['noise.png']);
  assert.deepEqual(dims(await readImage(join(dir, 'kill/noise.png'))), [2400, 1800]);
});

test('exit status: 2 when only inputs were at fault, 1 when a write failed during the run', async () => {
  await image('status/a.png', 4, 3, 15);
  await image('status/b.png', 4, 3, 16);
  let r = rtsr('status/a.png', 'status-a.png', '--model', join(dir, 'status/a.png'));
  assert.equal(r.status, 2, r.stderr);
  writeFileSync(join(dir, 'status/bad.png'), 'not a png');
  r = rtsr('status/bad.png', 'status-bad.png', '--model', modelPath);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^rtsr: cannot decode image status\/bad\.png: /);
  rmSync(join(dir, 'status/bad.png'));
  // A folder where an output goes: --overwrite replaces files, and renaming onto a folder fails.
  mkdirSync(join(dir, 'status-out/a.png'), { recursive: true });
  r = rtsr('status', 'status-out', '--model', modelPath, '--overwrite');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^rtsr: cannot write status-out\/a\.png: .*\n1 image upscaled .*\nrtsr: 1 of 2 images failed: status\/a\.png\n$/);
  assert.deepEqual(dims(await readImage(join(dir, 'status-out/b.png'))), [8, 6]);
});
