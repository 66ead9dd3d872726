// The native backend against the reference backend (the oracle), plus its compile cache. Error norm for
// float kernels: max|native − ref| / max(1, max|ref|) ≤ 1e-4 over the whole output.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdamParams, Backend, ConvShape } from '../src/backends/backend.js';
import { referenceBackend as ref } from '../src/backends/reference.js';
import { compileStats, createNativeBackend, findCompiler, type NativeBackend } from '../src/backends/native/index.js';
import { loadModule, modulePath, pruneCache } from '../src/backends/native/compile.js';
import { mapKernel } from '../src/backends/native/codegen-elementwise.js';
import { moduleSource } from '../src/backends/native/glue.js';
import { Rng } from '../src/util/random.js';
import { close } from './support/close.js';

const tc = findCompiler();
const skip = tc ? false : 'no C compiler with OpenMP';
// Fresh cache per run, set before the first compile so every backend below uses it.
const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-native-test-'));
process.env.RTSR_CACHE_DIR = cacheDir;
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const native = createNativeBackend();
const rng = new Rng(20240611);

const rand = (n: number, lo = -1, hi = 1) => rng.fill(new Float32Array(n), () => rng.uniform(lo, hi));

// Channels 1, 3, 5, 8, 13, 20, 24, 144 in and out; h, w in 1, 2, 7, 13, 17 and realistic widths (interior
// loops); batch 1 and 16; k 1, 3, 5.
const CONVS: ConvShape[] = [
  { n: 1, h: 7, w: 13, cin: 3, cout: 32, k: 3 },
  { n: 16, h: 7, w: 5, cin: 8, cout: 13, k: 3 },
  { n: 2, h: 13, w: 17, cin: 20, cout: 24, k: 3 },
  { n: 1, h: 17, w: 13, cin: 24, cout: 144, k: 1 },
  { n: 1, h: 13, w: 7, cin: 144, cout: 20, k: 1 },
  { n: 1, h: 7, w: 17, cin: 3, cout: 12, k: 5 },
  { n: 16, h: 2, w: 7, cin: 1, cout: 5, k: 3 },
  { n: 1, h: 1, w: 1, cin: 13, cout: 1, k: 5 },
  { n: 1, h: 2, w: 1, cin: 5, cout: 8, k: 3 },
  { n: 2, h: 17, w: 2, cin: 32, cout: 32, k: 3 },
  { n: 1, h: 13, w: 48, cin: 32, cout: 32, k: 3 },
  { n: 1, h: 9, w: 29, cin: 13, cout: 20, k: 5 },
  { n: 1, h: 7, w: 13, cin: 8, cout: 144, k: 3 },
  { n: 16, h: 1, w: 17, cin: 24, cout: 3, k: 1 },
];

function checkConvs(b: Backend, shapes: readonly ConvShape[], label: string): void {
  for (const s of shapes) {
    const what = `${label} ${JSON.stringify(s)}`;
    const x = rand(s.n * s.h * s.w * s.cin);
    const w = rand(s.k * s.k * s.cin * s.cout);
    const bias = rand(s.cout);
    const dy = rand(s.n * s.h * s.w * s.cout);
    close(b.conv2d(x, w, bias, s, true), ref.conv2d(x, w, bias, s, true), `conv2d+bias+relu ${what}`);
    close(b.conv2d(x, w, null, s, false), ref.conv2d(x, w, null, s, false), `conv2d ${what}`);
    // A residual summed in the store, against the sum done apart (after the ReLU, as documented).
    const res = rand(s.n * s.h * s.w * s.cout);
    const sum = ref.conv2d(x, w, bias, s, true).map((v, i) => v + res[i]);
    close(b.conv2d(x, w, bias, s, true, res), sum, `conv2d+bias+relu+residual ${what}`);
    close(b.conv2dGradInput(dy, w, s), ref.conv2dGradInput(dy, w, s), `conv2dGradInput ${what}`);
    close(b.conv2dGradWeight(x, dy, s), ref.conv2dGradWeight(x, dy, s), `conv2dGradWeight ${what}`);
  }
}

test('precompile builds many kernel groups in one compiler run', { skip }, () => {
  const before = compileStats.compiles;
  (native as NativeBackend).precompile(CONVS.map((shape) => ({ op: 'conv', shape })));
  assert.equal(compileStats.compiles - before, 1);
});

test('conv kernels match the reference', { skip }, () => {
  const before = compileStats.compiles;
  checkConvs(native, CONVS, 'native');
  assert.equal(compileStats.compiles, before, 'every shape was precompiled');
});

test('conv kernels generated for narrower vectors (AVX2-like, SSE/NEON-like) match too', { skip }, () => {
  const shapes = [CONVS[1], CONVS[2], CONVS[4], CONVS[11]];
  checkConvs(createNativeBackend({ target: { vw: 8, nreg: 16 } }), shapes, 'vw=8');
  checkConvs(createNativeBackend({ target: { vw: 4, nreg: 16 } }), shapes, 'vw=4');
});

test('conv2dGradWeight is deterministic and rejects mismatched shapes', { skip }, () => {
  const s = CONVS[10];
  const x = rand(s.n * s.h * s.w * s.cin);
  const dy = rand(s.n * s.h * s.w * s.cout);
  assert.deepEqual(native.conv2dGradWeight(x, dy, s), native.conv2dGradWeight(x, dy, s));
  assert.throws(() => native.conv2dGradWeight(x, dy, { ...s, h: s.h + 1 }), /do not match/);
});

// Lengths below and above the single-thread cut-off, odd ones included; data with exact zeros, -0 and NaN
// for the kernels whose special-value behaviour the reference defines.
const LENGTHS = [1, 7, 1000, 100_003];

/** Element-wise identity with Object.is: NaN equals NaN, but 0 and -0 differ. */
function same(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: [${i}] ${got[i]} vs ${want[i]}`);
}

function special(n: number): Float32Array {
  const a = rand(n);
  for (let i = 0; i < n; i += 5) a[i] = [0, -0, NaN, 1, -1][(i / 5) % 5];
  return a;
}

test('element-wise kernels match the reference exactly', { skip }, () => {
  for (const n of LENGTHS) {
    const a = special(n);
    const b = special(n).reverse();
    for (const kind of ['relu', 'sign', 'neg'] as const) same(native.unary(kind, a), ref.unary(kind, a), `${kind} n=${n}`);
    for (const kind of ['add', 'sub', 'mul', 'reluGrad'] as const) same(native.binary(kind, a, b), ref.binary(kind, a, b), `${kind} n=${n}`);
    for (const t of [0, 0.1, -0.3]) same(native.threshold(a, t), ref.threshold(a, t), `threshold ${t} n=${n}`);
    const acc = rand(n);
    const accRef = acc.slice();
    native.accumulate(acc, a);
    ref.accumulate(accRef, a);
    same(acc, accRef, `accumulate n=${n}`);
  }
});

test('affine, sum and distance match the reference', { skip }, () => {
  for (const n of LENGTHS) {
    const a = rand(n, -3, 3);
    const b = rand(n, -3, 3);
    close(native.affine(a, 0.7, -0.2), ref.affine(a, 0.7, -0.2), `affine n=${n}`, 1e-6);
    // Float64 sums in another order: equal to ~1e-12 relative.
    const near = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y)), `${what}: ${x} vs ${y}`);
    near(native.sum(a), ref.sum(a), `sum n=${n}`);
    near(native.distance(a, b, 1), ref.distance(a, b, 1), `L1 n=${n}`);
    near(native.distance(a, b, 2), ref.distance(a, b, 2), `L2 n=${n}`);
  }
});

test('per-channel kernels match the reference', { skip }, () => {
  for (const c of [1, 3, 5, 13, 32, 144])
    for (const pixels of [1, 7, 1000]) {
      const a = rand(pixels * c);
      const b = rand(pixels * c);
      const g = rand(c);
      same(native.mulChannels(a, g, c), ref.mulChannels(a, g, c), `mulChannels c=${c} pixels=${pixels}`);
      close(native.channelSum(a, null, c), ref.channelSum(a, null, c), `channelSum c=${c} pixels=${pixels}`, 1e-6);
      close(native.channelSum(a, b, c), ref.channelSum(a, b, c), `channelSum·b c=${c} pixels=${pixels}`, 1e-6);
    }
});

test('depthToSpace and spaceToDepth match the reference', { skip }, () => {
  for (const [n, h, w, c, s] of [[1, 1, 1, 1, 2], [2, 3, 5, 3, 2], [1, 7, 2, 3, 3], [16, 4, 6, 5, 4]]) {
    const deep = rand(n * h * w * c * s * s);
    const wide = native.depthToSpace(deep, n, h, w, c, s);
    same(wide, ref.depthToSpace(deep, n, h, w, c, s), `depthToSpace ${[n, h, w, c, s]}`);
    same(native.spaceToDepth(wide, n, h, w, c, s), deep, `spaceToDepth ${[n, h, w, c, s]}`);
  }
});

test('adamStep matches the reference over several steps', { skip }, () => {
  for (const weightDecay of [0, 0.01])
    for (const n of [5, 100_003]) {
      const [p1, g] = [rand(n), rand(n)];
      const [m1, v1] = [new Float32Array(n), new Float32Array(n)];
      const [p2, m2, v2] = [p1.slice(), m1.slice(), v1.slice()];
      for (let step = 1; step <= 3; step++) {
        const hp: AdamParams = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step };
        native.adamStep(p1, g, m1, v1, hp);
        ref.adamStep(p2, g, m2, v2, hp);
      }
      close(p1, p2, `adam param wd=${weightDecay} n=${n}`, 1e-6);
      close(m1, m2, `adam m wd=${weightDecay} n=${n}`, 1e-6);
      close(v1, v2, `adam v wd=${weightDecay} n=${n}`, 1e-6);
    }
});

/** A tiny module no other test builds, so its cache state is this test's own. */
const probeSource = (tag: string) => moduleSource(tc!.target, [mapKernel(`copy_${tag}`, 1, 'a')]);

test('the cache keeps the most recently used modules within its cap and drops stale compiler temp files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-prune-'));
  try {
    const hash = (i: number) => String(i).padStart(64, '0');
    const put = (name: string, bytes: number, hoursAgo: number) => {
      writeFileSync(join(dir, name), new Uint8Array(bytes));
      const t = new Date(Date.now() - hoursAgo * 3600e3);
      utimesSync(join(dir, name), t, t);
    };
    // Modules 0..3 of 300 + 100 bytes each, last used 4, 3, 2 and 1 hours ago.
    for (let i = 0; i < 4; i++) {
      put(`${hash(i)}.node`, 300, 4 - i);
      put(`${hash(i)}.c`, 100, 10);
    }
    put(`${hash(0)}.node.123.ab.tmp`, 50, 2);
    put(`${hash(1)}.node.456.cd.tmp`, 50, 0.1);
    mkdirSync(join(dir, 'tuning'));
    assert.equal(pruneCache(dir, 900), 2);
    assert.deepEqual(readdirSync(dir).sort(), [`${hash(1)}.node.456.cd.tmp`, `${hash(2)}.c`, `${hash(2)}.node`, `${hash(3)}.c`, `${hash(3)}.node`, 'tuning']);
    assert.equal(pruneCache(dir, 900), 0, 'within the cap: nothing more');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cached module loads without recompiling; the same source in the process never recompiles', { skip }, () => {
  const src = probeSource('hit');
  const before = compileStats.compiles;
  const first = loadModule(src, tc!, cacheDir);
  assert.equal(compileStats.compiles, before + 1);
  const dayAgo = new Date(Date.now() - 86400e3);
  utimesSync(first.path, dayAgo, dayAgo);
  const again = loadModule(src, tc!, cacheDir);
  assert.equal(compileStats.compiles, before + 1, 'second load was a cache hit');
  assert.ok(statSync(again.path).mtimeMs > Date.now() - 60e3, 'a load marks the module used (the cache prunes by last use)');
  const out = new Float32Array(3);
  again.call(0, Float32Array.of(1, 2, 3), out, 3);
  assert.deepEqual(out, Float32Array.of(1, 2, 3));
});

test('another process reuses the disk cache (zero compiles)', { skip }, () => {
  const s = CONVS[0];
  const url = new URL('../src/backends/native/index.js', import.meta.url).href;
  const script = `import { createNativeBackend, compileStats } from ${JSON.stringify(url)};
    const b = createNativeBackend();
    b.precompile([{ op: 'conv', shape: ${JSON.stringify(s)} }]);
    process.stdout.write(String(compileStats.compiles));`;
  const child = () => execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, RTSR_CACHE_DIR: cacheDir } });
  child(); // the first child may compile: its module (conv group + base kernels) differs from the parent's batch
  assert.equal(child(), '0');
});

test('a corrupt cached module is rebuilt', { skip }, () => {
  const src = probeSource('corrupt');
  const path = modulePath(src, tc!, cacheDir);
  writeFileSync(path, 'not an ELF file');
  const before = compileStats.compiles;
  const mod = loadModule(src, tc!, cacheDir);
  assert.equal(compileStats.compiles, before + 1);
  assert.notEqual(readFileSync(path).subarray(0, 15).toString(), 'not an ELF file');
  const out = new Float32Array(1);
  mod.call(0, Float32Array.of(5), out, 1);
  assert.equal(out[0], 5);
});

test('a missing compiler is reported, not crashed on', () => {
  assert.equal(findCompiler('rtsr-no-such-compiler'), null);
  const b = createNativeBackend({ cc: 'rtsr-no-such-compiler' });
  assert.throws(() => b.unary('relu', new Float32Array(1)), /no C compiler/);
});

test('a C compile error shows the compiler message and keeps the .c file', { skip }, () => {
  const err = (() => {
    try {
      loadModule('static void broken(void) { this is not C; }\n', tc!, cacheDir);
    } catch (e) {
      return e as Error;
    }
    assert.fail('compiling broken C should throw');
  })();
  const cPath = /compiling (\S+\.c) failed/.exec(err.message)?.[1];
  assert.ok(cPath && existsSync(cPath), `message names the kept .c file: ${err.message}`);
  assert.match(err.message, /error/i);
  assert.match(err.message, /broken|this|not/);
});
