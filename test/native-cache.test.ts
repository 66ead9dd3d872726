// The native compile path's faults: a truncated or bit-flipped cached module, a compiler found under another
// name or misnamed in CC, and Ctrl-C while a kernel compiles. Each case runs in child processes where a crash
// (SIGBUS in dlopen) or a process-wide cache would otherwise hide what a fresh run does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src/backends/index.js';
import { findToolchain } from '../src/backends/native/compile.js';

const here = dirname(fileURLToPath(import.meta.url));
const tc = findToolchain();
const skip = tc ? false : 'no C compiler with OpenMP';
const dirs: string[] = [];
const tmp = (tag: string) => {
  const d = mkdtempSync(join(tmpdir(), `rtsr-${tag}-`));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A child process that loads a one-kernel module (a copy) from `cacheDir` and prints its compiles and output. */
function copyKernelRun(cacheDir: string) {
  const url = (m: string) => JSON.stringify(new URL(`../src/backends/native/${m}`, import.meta.url).href);
  const script = `import { compileStats, findToolchain, loadModule } from ${url('compile.js')};
    import { mapKernel } from ${url('codegen-elementwise.js')};
    import { moduleSource } from ${url('glue.js')};
    const tc = findToolchain();
    const mod = loadModule(moduleSource(tc.target, [mapKernel('copy_cache_test', 1, 'a')]), tc, ${JSON.stringify(cacheDir)});
    const out = new Float32Array(3);
    mod.call(0, Float32Array.of(1, 2, 3), out, 3);
    process.stdout.write(compileStats.compiles + ' ' + [...out].join(','));`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

const moduleIn = (dir: string) => join(dir, readdirSync(dir).find((f) => f.endsWith('.node'))!);

test('a truncated cached module is rebuilt by the next run, which computes correctly and exits 0', { skip }, () => {
  const cache = tmp('cache');
  assert.equal(copyKernelRun(cache).stdout, '1 1,2,3');
  assert.equal(copyKernelRun(cache).stdout, '0 1,2,3', 'an intact module is a cache hit');
  truncateSync(moduleIn(cache), 1000);
  const r = copyKernelRun(cache);
  assert.equal(r.signal, null, `no crash (stderr: ${r.stderr})`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '1 1,2,3', 'recompiled, and right');
  assert.equal(copyKernelRun(cache).stdout, '0 1,2,3', 'the rebuilt module is trusted again');
});

test('a flipped bit in a cached module, or a module without its recorded sum, is rebuilt, never loaded', { skip }, () => {
  const cache = tmp('cache');
  copyKernelRun(cache);
  const path = moduleIn(cache);
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1] ^= 0x10;
  writeFileSync(path, bytes);
  assert.equal(copyKernelRun(cache).stdout, '1 1,2,3');
  rmSync(path.replace(/\.node$/, '.sum'));
  assert.equal(copyKernelRun(cache).stdout, '1 1,2,3');
  assert.ok(existsSync(path.replace(/\.node$/, '.sum')));
});

const gcc = spawnSync('sh', ['-c', 'command -v gcc'], { encoding: 'utf8' }).stdout.trim();

test('with CC unset and only gcc on PATH (no cc), gcc is found', { skip: gcc ? false : 'no gcc' }, () => {
  const bin = tmp('path');
  symlinkSync(gcc, join(bin, 'gcc'));
  const url = JSON.stringify(new URL('../src/backends/native/compile.js', import.meta.url).href);
  const script = `import { findToolchain } from ${url}; process.stdout.write(String(findToolchain()?.cc));`;
  const env = { ...process.env, PATH: bin, CC: '' };
  assert.equal(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env }), 'gcc');
});

test('a CC that does not work is an error naming it, not a quiet fallback to another compiler or backend', async () => {
  const saved = process.env.CC;
  try {
    process.env.CC = 'rtsr-no-such-cc';
    assert.throws(() => findToolchain(), /CC='rtsr-no-such-cc' is not a command on PATH; fix CC or unset it \(rtsr then tries cc, gcc, clang\)/);
    await assert.rejects(selectBackend(), /CC='rtsr-no-such-cc'/);
    process.env.CC = 'false';
    assert.throws(() => findToolchain(), /CC='false' does not run as a C compiler/);
    assert.equal((await selectBackend('reference')).name, 'reference', 'asking for the reference backend needs no compiler');
  } finally {
    if (saved === undefined) delete process.env.CC;
    else process.env.CC = saved;
  }
});

test('Ctrl-C (SIGINT to the process group) during the first kernel compile of `train` saves a checkpoint and exits 0', { skip }, async () => {
  const root = tmp('sigint');
  const cache = join(root, 'cache');
  for (const [set, image] of [['T91', 't1.png'], ['Set5', 'bird.png']]) {
    mkdirSync(join(root, 'data', set, 'HR'), { recursive: true });
    copyFileSync(resolve(here, '../../data', set, 'HR', image), join(root, 'data', set, 'HR', image));
  }
  const args = ['train', '--arch', 'wdsr-b-1x4', '--steps', '1000', '--batch', '2', '--patch', '8', '--data', join(root, 'data'), '--train-sets', 'T91', '--out', join(root, 'run'), '--backend', 'native'];
  // detached: its own process group, as a terminal's foreground job is, so the signal goes to the whole group.
  const child = spawn(process.execPath, [resolve(here, '../src/cli/main.js'), ...args], { env: { ...process.env, RTSR_CACHE_DIR: cache }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // The compiler's output file appears while it runs; the .c file is written just before.
  const compiling = () => existsSync(cache) && readdirSync(cache).some((f) => f.endsWith('.tmp'));
  const t0 = Date.now();
  while (!compiling() && Date.now() - t0 < 60e3) await new Promise((r) => setTimeout(r, 5));
  assert.ok(compiling(), `a compile started (stderr: ${stderr})`);
  process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  assert.equal(code, 0, stderr);
  assert.match(stderr, /stopped at step \d+; checkpoint in .*checkpoint\.rtsr/);
  assert.ok(existsSync(join(root, 'run', 'checkpoint.rtsr')));
  assert.doesNotMatch(stderr, /failed/);
});
