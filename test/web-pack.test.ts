// `npm pack` ships the browser side: the tarball holds the rtsr/web bundle with its worker and types, the pages
// and their scripts. Installed from the tarball into a folder of its own (extracted; its dependencies linked from
// this checkout, since the test has no network), the package's own `rtsr serve` serves the "use it in your page"
// example of docs/web.md, which imports rtsr/web and upscales a picture in headless chromium.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BUNDLED_DATA_DIR } from '../src/data/datadir.js';
import { loadPair } from '../src/data/datasets.js';
import { writePng } from '../src/image/io.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';
import { browserSkip, launchBrowser, startServe } from './support/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'rtsr-pack-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The first ```html block of docs/web.md: the example users copy. */
const example = () => /```html\n([\s\S]*?)```/.exec(readFileSync(join(PACKAGE_ROOT, 'docs/web.md'), 'utf8'))![1];

test('the packed package serves rtsr/web, and the docs example runs from a page of its own', { skip: browserSkip, timeout: 180_000 }, async (t) => {
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet; the test builds it first.
  const [{ filename, files }] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { filename: string; files: { path: string }[] }[];
  const paths = new Set(files.map((f) => f.path));
  for (const f of ['dist/web/rtsr.js', 'dist/web/worker.js', 'dist/web/pages/demo.js', 'dist/web/pages/profile.js', 'dist/types/src/web/index.d.ts', 'web/index.html', 'web/profile.html', 'web/style.css'])
    assert.ok(paths.has(f), `${f} is in the tarball`);
  const installed = join(dir, 'install');
  mkdirSync(installed);
  execFileSync('tar', ['xzf', join(dir, filename), '-C', installed]);
  const pkg = join(installed, 'package');
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(pkg, 'node_modules'));
  const exported = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).exports['./web'];
  assert.ok(existsSync(join(pkg, exported.default)) && existsSync(join(pkg, exported.types)), JSON.stringify(exported));

  const site = join(dir, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'example.html'), example());
  await writePng(join(site, 'photo.png'), (await loadPair(join(BUNDLED_DATA_DIR, 'Set5/HR/bird.png'), 2)).lr);
  const serve = await startServe(['--models', site, '--profiles', join(dir, 'profiles')], join(pkg, 'dist/src/cli/main.js'));
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${serve.url}models/example.html`);
    await page.waitForSelector('body[data-done]', { timeout: 120_000 });
    const done = (await page.getAttribute('body', 'data-done'))!;
    t.diagnostic(done);
    assert.match(done, /^288x288 on (webgpu: |wasm: wasm SIMD on \d+ threads? \(cross-origin isolated\))/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    serve.stop();
  }
});
