// The browser side of the compile-targets work: the web entry bundles for the browser platform with no `node:*`
// import, the bundle itself runs (here in Node, single-threaded as in a page that is not cross-origin isolated)
// and computes what the wasm target computes, and a `rtsr compile --target wasm` artifact copied to a folder of
// its own loads in a fresh Node with nothing installed and upscales Set5's first image to the same bytes as
// `rtsr upscale --target wasm`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { compile } from '../src/compiler/compile.js';
import { listImages } from '../src/data/datasets.js';
import { BUNDLED_DATA_DIR } from '../src/data/datadir.js';
import { rgbImage } from '../src/image/image.js';
import { readImage } from '../src/image/io.js';
import { encodeModel } from '../src/models/model-file.js';
import { getTarget } from '../src/targets/registry.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';
import { randomModel, WDSR_ODD } from './compiler-support.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rtsr-web-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the web entry bundles for the browser platform, importing no node:* module', async () => {
  const r = await build({ absWorkingDir: PACKAGE_ROOT, entryPoints: [join(PACKAGE_ROOT, 'dist/src/web/index.js')], bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((f) => f.includes('targets/wasm/render.js')) && inputs.some((f) => f.includes('compiler/compile.js')), 'the bundle holds the compiler and the wasm target');
  const imports = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
  assert.deepEqual(imports.filter((p) => p.startsWith('node:') || !p.startsWith('dist/')), []);
  assert.doesNotMatch(r.outputFiles[0].text, /\brequire\(|from ["']node:/);
});

test('the browser bundle runs a model decoded from bytes exactly as the wasm target does', async () => {
  const m = randomModel(WDSR_ODD, 3, 4);
  // The Node target first: its host turns on V8's relaxed SIMD (fused multiply-adds), which the bundle's browser
  // host then finds too, so both run the same arithmetic and bytes must agree exactly, not by luck at ties.
  const here = await compile(m, { target: await getTarget('wasm'), threads: 1 });
  const web = await import(pathToFileURL(join(PACKAGE_ROOT, 'dist/web/rtsr.js')).href);
  const bytes = new Uint8Array(Buffer.concat(encodeModel(m)));
  const compiled = await web.compile(web.decodeModel(bytes, 'm.rtsr').model, { target: web.wasmTarget });
  assert.equal(compiled.target, 'wasm');
  const img = rgbImage(29, 11, Uint8Array.from({ length: 29 * 11 * 3 }, (_, i) => (i * 97) & 255));
  assert.deepEqual((await compiled.runImage(img)).data, (await here.runImage(img)).data);
  await Promise.all([compiled.dispose(), here.dispose()]);
});

test('loadModel takes the first candidate target that runs and says why it passed over the others', async () => {
  const web = await import(pathToFileURL(join(PACKAGE_ROOT, 'dist/web/rtsr.js')).href);
  const m = randomModel(WDSR_ODD, 2, 5);
  const bytes = new Uint8Array(Buffer.concat(encodeModel(m)));
  // A WebGPU target as it will register: here it has no adapter.
  const gpu = { ...web.wasmTarget, name: 'webgpu', unavailable: async () => 'no WebGPU adapter' };
  const up = await web.loadModel(bytes, { targets: [gpu, web.wasmTarget], tune: false });
  assert.equal(up.target, 'wasm');
  assert.match(up.reason, /^wasm SIMD on 1 thread: the page is not cross-origin isolated .*; webgpu not used: no WebGPU adapter$/);
  const img = rgbImage(13, 7, Uint8Array.from({ length: 13 * 7 * 3 }, (_, i) => (i * 31) & 255));
  // The browser host in Node runs without relaxed SIMD (Node 20 has it behind a flag only the Node host sets), so
  // its sums lack FMA and a byte may round the other way: within 1, not bit-exact.
  const here = await compile(m, { target: await getTarget('wasm'), threads: 1, tune: false });
  const [a, b] = [(await up.upscaleRgb(img)).data, (await here.runImage(img)).data];
  assert.equal(a.length, b.length);
  assert.ok(a.every((v: number, i: number) => Math.abs(v - b[i]) <= 1));
  await Promise.all([up.dispose(), here.dispose()]);
  await assert.rejects(web.loadModel(new Uint8Array([1, 2, 3])), /model bytes is not a model rtsr can read/);
  await assert.rejects(web.loadModel(bytes, { targets: [gpu] }), /no target runs in this browser: webgpu not used: no WebGPU adapter/);
});

test('a compiled artifact loads in a fresh Node from its own folder and upscales Set5 as rtsr upscale does', async () => {
  const first = (await listImages(BUNDLED_DATA_DIR, 'Set5'))[0];
  const built = join(dir, 'built');
  let r = spawnSync(process.execPath, [MAIN, 'compile', 'wdsr-b-x2', '--target', 'wasm', '--out', built], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // A folder outside the repo, a node with no NODE_PATH, no package to resolve: only what the artifact holds.
  const alone = mkdtempSync(join(tmpdir(), 'rtsr-artifact-'));
  after(() => rmSync(alone, { recursive: true, force: true }));
  cpSync(built, join(alone, 'model'), { recursive: true });
  const img = await readImage(first);
  writeFileSync(join(alone, 'in.rgb'), img.data);
  const script = `
    import { readFileSync, writeFileSync } from 'node:fs';
    import { load } from './model/index.js';
    const up = await load({ threads: 2 });
    const out = await up.upscale({ width: ${img.width}, height: ${img.height}, data: new Uint8Array(readFileSync('in.rgb')) });
    writeFileSync('out.rgb', out.data);
    console.log(out.width, out.height, up.manifest.target, up.scale);
    await up.dispose();`;
  r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: alone, env: { PATH: '/usr/bin:/bin', HOME: alone }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `${img.width * 2} ${img.height * 2} wasm 2`);
  r = spawnSync(process.execPath, [MAIN, 'upscale', first, join(dir, 'cli.png'), '--model', 'wdsr-b-x2', '--target', 'wasm'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(new Uint8Array(readFileSync(join(alone, 'out.rgb'))), (await readImage(join(dir, 'cli.png'))).data);
});
