// `rtsr upscale`: single files, folders and globs in, PNGs out with exactly the compiled model's pixels; glob
// expansion; usage errors.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandGlob } from '../src/cli/upscale.js';
import { getTarget } from '../src/targets/registry.js';
import { compile } from '../src/compiler/compile.js';
import { rgbImage } from '../src/image/image.js';
import { readImage, writePng } from '../src/image/io.js';
import { saveModel } from '../src/models/model-io.js';
import { randomModel } from './compiler-support.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rtsr-upscale-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, RTSR_CACHE_DIR: join(dir, 'cache') };
const model = randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":9,"m2":3}]}', 2, 1);
const modelPath = join(dir, 'm.rtsr');
saveModel(modelPath, model);

const rtsr = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'upscale', ...args], { cwd: dir, env, encoding: 'utf8' });

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

test('usage errors say what is wrong and exit with status 2', async () => {
  await image('clash/a.png', 3, 3, 4);
  writeFileSync(join(dir, 'clash/a.bmp'), Buffer.from('BM'));
  const cases: [string[], RegExp][] = [
    [['in/a.png', 'x.png'], /usage: rtsr upscale IN OUT --model/],
    [['nothere', 'x', '--model', modelPath], /nothere: no such file or folder/],
    [['in/*.jpg', 'x', '--model', modelPath], /in\/\*\.jpg: the pattern matches no image files/],
    [['in/a.png', 'x.jpg', '--model', modelPath], /x\.jpg: the output must be a \.png file or a folder/],
    [['clash', 'x', '--model', modelPath], /clash\/a\.bmp and clash\/a\.png would both be written to x\/a\.png/],
    [['in', 'x', '--model', modelPath, '--target', 'gpu'], /--target: unknown target 'gpu' \(known: native, reference/],
    [['in', 'x', '--model', 'no-such-model'], /no model file 'no-such-model' and no zoo model of that name/],
  ];
  for (const [args, message] of cases) {
    const r = rtsr(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
