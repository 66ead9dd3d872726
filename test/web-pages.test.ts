// The pages in a real browser (headless chromium through playwright-core), served by `rtsr serve`: the demo
// page upscales Set5's first image through wasm to the same pixels as the wasm target here (so its PSNR is
// rtsr eval's for that image), plays a video upscaled frame by frame, and answers bad files with a message; the
// profiling page completes a small profile that the server writes and `rtsr speed-model fit` accepts. The
// screenshots in docs/ come from here (written there with RTSR_UPDATE_SCREENSHOTS=1, else to a temporary folder, so
// a test run leaves the checkout as it was). Without chromium every test is skipped, saying why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { compile } from '../src/compiler/compile.js';
import { BUNDLED_DATA_DIR } from '../src/data/datadir.js';
import { listImages, loadPair } from '../src/data/datasets.js';
import { readImage, writePng } from '../src/image/io.js';
import { readProfile } from '../src/latency/profile-file.js';
import { scoreY } from '../src/metrics/score.js';
import { findModel } from '../src/models/zoo.js';
import { getTarget } from '../src/targets/registry.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';
import { browserSkip, launchBrowser, startServe } from './support/browser.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rtsr-pages-test-'));
const screenshotPath = (name: string) => join(process.env.RTSR_UPDATE_SCREENSHOTS === '1' ? join(PACKAGE_ROOT, 'docs') : dir, name);
const skip = browserSkip;
let browser: Browser;
let serve: Awaited<ReturnType<typeof startServe>>;
let demo: Page;

before(async () => {
  if (skip) return;
  serve = await startServe(['--profiles', join(dir, 'profiles')]);
  browser = await launchBrowser();
  demo = await browser.newPage({ viewport: { width: 1000, height: 760 } });
  await demo.goto(`${serve.url}?model=wdsr-b-x2&target=wasm`);
  await demo.waitForSelector('#target[data-state=ready]', { timeout: 60_000 });
});
after(async () => {
  await browser?.close();
  serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The bytes behind the page's download link. */
async function downloaded(page: Page): Promise<Buffer> {
  const b64 = await page.evaluate(async () => {
    const blob = await (await fetch((document.getElementById('download') as HTMLAnchorElement).href)).blob();
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  });
  return Buffer.from(b64, 'base64');
}

test('the demo page upscales Set5\'s first image on wasm threads to the wasm target\'s pixels, and rtsr eval\'s PSNR', { skip, timeout: 180_000 }, async (t) => {
  const status = (await demo.textContent('#target'))!;
  assert.match(status, /runs on wasm: wasm SIMD on \d+ threads? \(cross-origin isolated\)/);
  t.diagnostic(status);
  const first = (await listImages(BUNDLED_DATA_DIR, 'Set5'))[0];
  const pair = await loadPair(first, 2); // the LR rtsr eval makes: MATLAB bicubic of the mod-cropped HR
  const lrPath = join(dir, 'lr.png');
  await writePng(lrPath, pair.lr);
  await demo.setInputFiles('#file', lrPath);
  await demo.waitForSelector('#result[data-state=done]', { timeout: 120_000 });
  const pngPath = join(dir, 'page.png');
  writeFileSync(pngPath, await downloaded(demo));
  const page = await readImage(pngPath);
  const compiled = await compile(findModel('wdsr-b-x2').model, { target: await getTarget('wasm') });
  const here = await compiled.runImage(pair.lr);
  await compiled.dispose();
  assert.deepEqual([page.width, page.height], [here.width, here.height]);
  const psnrPage = scoreY(page, pair.hr, 2).psnr;
  const psnrEval = scoreY(here, pair.hr, 2).psnr;
  t.diagnostic(`${first}: page ${psnrPage.toFixed(4)} dB, wasm target ${psnrEval.toFixed(4)} dB`);
  assert.ok(Math.abs(psnrPage - psnrEval) <= 0.01, `${psnrPage} vs ${psnrEval}`);
  assert.ok(Buffer.from(page.data).equals(Buffer.from(here.data)), 'the same pixels');
  await demo.screenshot({ path: screenshotPath('web-demo.png') });
});

test('on WebGPU (SwiftShader here) the demo page upscales Set5\'s first image to the wasm target\'s PSNR, bytes within one', { skip, timeout: 240_000 }, async (t) => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
  await page.goto(`${serve.url}?model=wdsr-b-x2&target=webgpu`);
  await page.waitForSelector('#target[data-state=ready], #target[data-state=failed]', { timeout: 60_000 });
  const status = (await page.textContent('#target'))!;
  t.diagnostic(status);
  if (!/runs on webgpu/.test(status)) return t.skip(`this chromium gives the page no WebGPU adapter: ${status}`);
  const pair = await loadPair((await listImages(BUNDLED_DATA_DIR, 'Set5'))[0], 2);
  const lrPath = join(dir, 'lr-gpu.png');
  await writePng(lrPath, pair.lr);
  await page.setInputFiles('#file', lrPath);
  await page.waitForSelector('#result[data-state=done]', { timeout: 200_000 });
  writeFileSync(join(dir, 'gpu.png'), await downloaded(page));
  const got = await readImage(join(dir, 'gpu.png'));
  const compiled = await compile(findModel('wdsr-b-x2').model, { target: await getTarget('wasm') });
  const want = await compiled.runImage(pair.lr);
  await compiled.dispose();
  let exact = 0;
  for (let i = 0; i < want.data.length; i++) {
    assert.ok(Math.abs(got.data[i] - want.data[i]) <= 1, `byte ${i}: ${got.data[i]} vs ${want.data[i]}`);
    if (got.data[i] === want.data[i]) exact++;
  }
  const [psnrGpu, psnrWasm] = [scoreY(got, pair.hr, 2).psnr, scoreY(want, pair.hr, 2).psnr];
  t.diagnostic(`webgpu ${psnrGpu.toFixed(4)} dB, wasm ${psnrWasm.toFixed(4)} dB, ${((100 * exact) / want.data.length).toFixed(3)} % of bytes exact`);
  assert.ok(exact >= 0.999 * want.data.length);
  assert.ok(Math.abs(psnrGpu - psnrWasm) <= 0.01);
  await page.close();
});

test('the demo page plays a video upscaled frame by frame', { skip, timeout: 120_000 }, async () => {
  // A WebM the browser records itself from a canvas (MediaRecorder): no video tool needed on the machine.
  await demo.evaluate(async () => {
    const c = Object.assign(document.createElement('canvas'), { width: 64, height: 48 });
    const ctx = c.getContext('2d')!;
    const rec = new MediaRecorder(c.captureStream(15), { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((done) => (rec.onstop = done));
    rec.start();
    for (let i = 0; i < 20; i++) {
      ctx.fillStyle = `hsl(${i * 18} 70% 50%)`;
      ctx.fillRect(0, 0, 64, 48);
      ctx.fillStyle = '#fff';
      ctx.fillRect(i * 2, 10, 16, 16);
      await new Promise((r) => setTimeout(r, 60));
    }
    rec.stop();
    await stopped;
    const input = document.getElementById('file') as HTMLInputElement;
    const files = new DataTransfer();
    files.items.add(new File(chunks, 'clip.webm', { type: 'video/webm' }));
    input.files = files.files;
    input.dispatchEvent(new Event('change'));
  });
  await demo.waitForFunction(() => Number(document.getElementById('result')!.dataset.frames ?? 0) >= 3, undefined, { timeout: 60_000 });
  await demo.waitForSelector('#result[data-state=done]', { timeout: 60_000 });
  assert.equal(await demo.textContent('#size'), '128×96');
  assert.match((await demo.textContent('#ms'))!, /^\d+\.\d ms$/);
  assert.equal(await demo.getAttribute('body', 'data-error'), null);
});

test('the demo page upscales the camera live (a fake camera here) until stopped', { skip, timeout: 120_000 }, async () => {
  await demo.click('#camera');
  await demo.waitForSelector('#result[data-state=playing]', { timeout: 30_000 });
  await demo.waitForFunction(() => Number(document.getElementById('result')!.dataset.frames ?? 0) >= 3, undefined, { timeout: 100_000 });
  assert.equal(await demo.getAttribute('#result', 'data-state'), 'playing');
  await demo.click('#stop');
  assert.equal(await demo.getAttribute('#result', 'data-state'), 'done');
  assert.equal(await demo.isHidden('#stop'), true);
});

test('the demo page answers bad files with a message and keeps working', { skip, timeout: 120_000 }, async () => {
  const cases = [
    { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('no PNG in here'), says: /broken\.png could not be decoded as an image/ },
    { name: 'notes.rtsr', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model'), says: /notes\.rtsr is not a model rtsr can read/ },
    { name: 'broken.webm', mimeType: 'video/webm', buffer: Buffer.alloc(4096, 7), says: /broken\.webm (cannot be played|did not start)/ },
    { name: 'table.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b'), says: /not an image, a video or an \.rtsr model/ },
  ];
  for (const c of cases) {
    await demo.setInputFiles('#file', { name: c.name, mimeType: c.mimeType, buffer: c.buffer });
    await demo.waitForFunction((re) => new RegExp(re).test(document.getElementById('error')!.textContent ?? ''), c.says.source, { timeout: 30_000 });
    assert.ok(await demo.isVisible('#error'));
  }
  assert.equal(await demo.getAttribute('#target', 'data-state'), 'ready', 'the loaded model stays');
  await demo.setInputFiles('#file', join(BUNDLED_DATA_DIR, 'Set5/HR/bird.png'));
  await demo.waitForFunction(() => document.getElementById('size')!.textContent === '576×576', undefined, { timeout: 120_000 });
});

test('the demo page opens on the zoo\'s best ×2 model within 33 ms unless ?model= names another', { skip, timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${serve.url}?target=wasm`);
    await page.waitForSelector('#target[data-state=ready]', { timeout: 60_000 });
    assert.match(await page.$eval('#model', (s) => (s as HTMLSelectElement).value), /\/wdsr-b-5x8-luma-x2\.rtsr$/);
    assert.match(await demo.$eval('#model', (s) => (s as HTMLSelectElement).value), /\/wdsr-b-x2\.rtsr$/);
  } finally {
    await page.close();
  }
});

test('the profiling page profiles this browser; the server writes it; speed-model fit accepts it', { skip, timeout: 300_000 }, async (t) => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  // Enough blocks for fit (head and tail of every C, the planned networks' blocks, 20 samples), tiny frames.
  await page.goto(`${serve.url}profile.html?target=wasm&input=32x18&samples=20&repeats=3&models=0&start=1`);
  await page.waitForSelector('body[data-state=done], body[data-state=failed]', { timeout: 280_000 });
  assert.equal(await page.getAttribute('body', 'data-error'), null);
  const path = (await page.getAttribute('body', 'data-saved'))!;
  const profile = readProfile(path);
  assert.equal(profile.device.target, 'wasm');
  assert.match(profile.device.userAgent ?? '', /Chrome/);
  assert.deepEqual(profile.input, { w: 32, h: 18 });
  t.diagnostic(`${path}: ${profile.measurements.length} parts; ${profile.device.compiler}, adapter ${profile.device.adapter ?? 'none'}`);
  const fit = spawnSync(process.execPath, [MAIN, 'speed-model', 'fit', '--profile', path, '--out', join(dir, 'phone.model.json')], { encoding: 'utf8' });
  assert.equal(fit.status, 0, fit.stderr);
  const refused = spawnSync(process.execPath, [MAIN, 'search', '--device-profile', path, '--budget-ms', '33', '--input', '64x36'], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /measured for input 32x18, not 64x36/);
  await page.screenshot({ path: screenshotPath('web-profile.png') });
  await page.close();
});
