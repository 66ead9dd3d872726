// The native backend: every kernel is C generated for the shapes in use, compiled once (cached on disk),
// and called through one N-API entry point. This file only checks arguments, allocates outputs and finds
// (or compiles) the kernel; the maths lives in the generators.
import type { AdamParams, Backend, BinaryKind, ConvShape, ExpandShape, UnaryKind } from '../backend.js';
import { defaultCacheDir, findToolchain, loadKernels, type NativeArg, type Toolchain } from './compile.js';
import type { Target } from './glue.js';
import { BASE_PROBE, baseSources, channelName, convName, shuffleName, specSources, wdsrName, type ConvKind, type KernelSpec } from './kernels.js';
import { type ConvTuning, DEFAULT_WDSR, defaultConvTuning, tuneConv, tuneWdsr, type WdsrTuning } from './tune.js';

export { compileStats, findToolchain as findCompiler, ompThreads, type Toolchain } from './compile.js';
export { trainTuneStats } from './tune.js';
export type { KernelSpec } from './kernels.js';
export type { Target } from './glue.js';

export interface NativeOptions {
  /** The C compiler; default `$CC`, else the first of cc, gcc, clang that works (see findToolchain). */
  readonly cc?: string;
  /** Module cache; default `defaultCacheDir()` at first compile (RTSR_CACHE_DIR, XDG_CACHE_HOME, ~/.cache). */
  readonly cacheDir?: string;
  /** SIMD shape to generate for instead of the compiler's native one (narrower code still runs on wider CPUs). */
  readonly target?: Target;
  /** Choose each conv's and fused block's blocking by timing candidates here at its first call (cached on disk;
   *  tune.ts) rather than use the defaults: for training runs, not for tests of a shape or two. Default false. */
  readonly tune?: boolean;
}

export interface NativeBackend extends Backend {
  /** Compiles, in one C file and one compiler run, every kernel of `specs` that is not loaded yet. Kernels
   *  compile on first use anyway; this saves one compiler start per group when many shapes are known ahead. */
  precompile(specs: readonly KernelSpec[]): void;
}

type Kernel = (...args: NativeArg[]) => void;

/** Released outputs kept for reuse, per length; beyond this many of one length they are left to the GC. */
const POOL_PER_LENGTH = 256;

function need(ok: boolean, what: string): void {
  if (!ok) throw new Error(`native backend: ${what}`);
}

function checkConv(s: ConvShape, x: number, xc: number, y: number, yc: number, w?: number): void {
  const { n, h, w: wd, cin, cout, k } = s;
  for (const v of [n, h, wd, cin, cout, k]) need(Number.isInteger(v) && v > 0, `bad conv shape ${JSON.stringify(s)}`);
  need(k % 2 === 1, `kernel size must be odd, got ${k}`);
  need(x === n * h * wd * xc && y === n * h * wd * yc, `conv tensors do not match shape ${JSON.stringify(s)}`);
  need(w === undefined || w === k * k * cin * cout, `conv weights do not match shape ${JSON.stringify(s)}`);
}

function checkExpand(s: ExpandShape, lens: Record<string, [number, number]>): void {
  for (const v of [s.n, s.h, s.w, s.c, s.m1, s.m2]) need(Number.isInteger(v) && v > 0, `bad expansion shape ${JSON.stringify(s)}`);
  for (const [what, [got, want]] of Object.entries(lens)) need(got === want, `wdsrExpand: ${what} has ${got} values, expected ${want} for ${JSON.stringify(s)}`);
}

export function createNativeBackend(opts: NativeOptions = {}): NativeBackend {
  let toolchain: Toolchain | null = null;
  const kernels = new Map<string, Kernel>();
  // Outputs handed back by release(): a training step allocates the same lengths, tens of megabytes of them,
  // every step. New memory faults its pages in on first touch and grows V8's external memory, which starts a
  // full garbage collection every step or so; a released output is warm and costs neither.
  const ours = new WeakSet<Float32Array>();
  const pool = new Map<number, Float32Array[]>();
  const pooled = new WeakSet<Float32Array>();

  /** An output array without zero-filling (every kernel writes all of its output): a released one of that
   *  length, else a new one owning its whole ArrayBuffer (freed blocks are recycled by malloc rather than
   *  faulted in afresh: see mallopt in glue.ts). */
  function alloc(n: number): Float32Array {
    const reused = pool.get(n)?.pop();
    if (reused) {
      pooled.delete(reused);
      return reused;
    }
    const a = new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
    ours.add(a);
    return a;
  }

  function tools(): { tc: Toolchain; target: Target } {
    toolchain ??= findToolchain(opts.cc);
    if (!toolchain) throw new Error('native backend: no C compiler with OpenMP found (set CC, or install gcc or clang)');
    return { tc: toolchain, target: opts.target ?? toolchain.target };
  }

  function precompile(specs: readonly KernelSpec[]): void {
    const { tc, target } = tools();
    const wanted = [...(kernels.has(BASE_PROBE) ? [] : baseSources(target)), ...specs.flatMap((s) => specSources(s, target))];
    const todo = [...new Map(wanted.filter((k) => !kernels.has(k.name)).map((k) => [k.name, k])).values()];
    if (todo.length === 0) return;
    const calls = loadKernels(target, todo, tc, opts.cacheDir ?? defaultCacheDir());
    todo.forEach((k, i) => kernels.set(k.name, calls[i]));
  }

  function kernel(name: string, spec?: KernelSpec): Kernel {
    if (!kernels.has(name)) precompile(spec ? [spec] : []);
    return kernels.get(name)!;
  }

  // Each geometry's blocking, chosen at its first call (tuned at that call's batch size when opts.tune).
  const tunings = new Map<string, ConvTuning | WdsrTuning>();
  function tuned<T extends ConvTuning | WdsrTuning>(g: object, choose: (env: { tc: Toolchain; target: Target; cacheDir: string }) => T): T {
    const key = JSON.stringify(g);
    if (!tunings.has(key)) tunings.set(key, choose({ ...tools(), cacheDir: opts.cacheDir ?? defaultCacheDir() }));
    return tunings.get(key) as T;
  }
  const conv = (kind: ConvKind, s: ConvShape) => {
    const g = { h: s.h, w: s.w, cin: s.cin, cout: s.cout, k: s.k };
    const tuning = tuned(g, (env) => (opts.tune ? tuneConv(g, s.n, env) : defaultConvTuning(g, env.target)));
    return kernel(convName(kind, g, tuning), { op: 'conv', shape: g, tuning });
  };
  /** An element map: inputs, then the fresh output, then the length and any scalars. */
  const map = (name: string, inputs: Float32Array[], scalars: number[] = [], spec?: KernelSpec) => {
    const out = alloc(inputs[0].length);
    kernel(name, spec)(...inputs, out, out.length, ...scalars);
    return out;
  };
  const expand = (backward: boolean, s: ExpandShape) => {
    const geom = { c: s.c, m1: s.m1, m2: s.m2 };
    const tuning = tuned(geom, (env) => (opts.tune ? tuneWdsr(geom, s.n, s.h * s.w, env) : DEFAULT_WDSR));
    return kernel(wdsrName(backward, geom, tuning), { op: 'wdsr', geom, tuning });
  };
  const scalar = new Float64Array(1);
  const reduce = (name: string, ...args: NativeArg[]) => {
    kernel(name)(...args, scalar, (args[0] as Float32Array).length);
    return scalar[0];
  };

  return {
    name: 'native',
    precompile,
    release(a) {
      if (!ours.has(a) || pooled.has(a)) return;
      const list = pool.get(a.length) ?? [];
      if (list.length >= POOL_PER_LENGTH) return;
      list.push(a);
      pool.set(a.length, list);
      pooled.add(a);
    },

    conv2d(x, w, b, s, relu, add = null) {
      checkConv(s, x.length, s.cin, s.n * s.h * s.w * s.cout, s.cout, w.length);
      need(b === null || b.length === s.cout, 'bias length must equal cout');
      need(add === null || add.length === s.n * s.h * s.w * s.cout, `conv2d: the added tensor has ${add?.length} values, the output ${s.n * s.h * s.w * s.cout}`);
      const y = alloc(s.n * s.h * s.w * s.cout);
      conv('fwd', s)(x, w, b, y, add, s.n, relu ? 1 : 0);
      return y;
    },
    conv2dGradInput(dy, w, s) {
      checkConv(s, dy.length, s.cout, s.n * s.h * s.w * s.cin, s.cin, w.length);
      const dx = alloc(s.n * s.h * s.w * s.cin);
      conv('gin', s)(dy, w, null, dx, null, s.n, 0);
      return dx;
    },
    conv2dGradWeight(x, dy, s) {
      checkConv(s, x.length, s.cin, dy.length, s.cout);
      const dw = alloc(s.k * s.k * s.cin * s.cout);
      conv('gw', s)(x, dy, dw, s.n);
      return dw;
    },

    wdsrExpand(x, w1, b1, w2, b2, s) {
      const np = s.n * s.h * s.w;
      checkExpand(s, { x: [x.length, np * s.c], w1: [w1.length, s.c * s.m1], b1: [b1.length, s.m1], w2: [w2.length, s.m1 * s.m2], b2: [b2.length, s.m2] });
      const z = alloc(np * s.m2);
      expand(false, s)(x, w1, b1, w2, b2, z, np);
      return z;
    },
    wdsrExpandGrad(x, dz, w1, b1, w2, s, dxAdd = null) {
      const np = s.n * s.h * s.w;
      checkExpand(s, { x: [x.length, np * s.c], dz: [dz.length, np * s.m2], w1: [w1.length, s.c * s.m1], b1: [b1.length, s.m1], w2: [w2.length, s.m1 * s.m2], dxAdd: [dxAdd?.length ?? np * s.c, np * s.c] });
      const r = { dx: alloc(np * s.c), dw1: alloc(s.c * s.m1), db1: alloc(s.m1), dw2PerSample: alloc(s.n * s.m1 * s.m2), db2PerSample: alloc(s.n * s.m2) };
      expand(true, s)(x, dz, w1, b1, w2, r.dx, r.dw1, r.db1, r.dw2PerSample, r.db2PerSample, dxAdd, s.n, s.h * s.w);
      return r;
    },

    unary: (kind: UnaryKind, x) => map(kind, [x]),
    binary(kind: BinaryKind, a, b) {
      need(a.length === b.length, `binary ${kind}: lengths ${a.length} and ${b.length} differ`);
      return map(kind, [a, b]);
    },
    threshold: (x, t) => map('threshold', [x], [t]),
    affine: (x, a, b) => map('affine', [x], [a, b]),
    mulChannels(x, g, c) {
      need(g.length === c && x.length % c === 0, `mulChannels: ${x.length} values, ${g.length} gains, c = ${c}`);
      return map(channelName('mul', c), [x, g], [], { op: 'channels', c });
    },
    channelSum(a, b, c) {
      need(a.length % c === 0 && (b === null || b.length === a.length), `channelSum: lengths do not fit c = ${c}`);
      const out = new Float64Array(c);
      const f = kernel(channelName(b ? 'sumprod' : 'sum', c), { op: 'channels', c });
      if (b) f(a, b, out, a.length);
      else f(a, out, a.length);
      return Float32Array.from(out);
    },

    depthToSpace(x, n, h, w, c, s) {
      need(x.length === n * h * w * c * s * s, 'depthToSpace: length does not match the shape');
      const out = alloc(x.length);
      kernel(shuffleName(false, c, s), { op: 'shuffle', c, s })(x, out, n, h, w);
      return out;
    },
    spaceToDepth(x, n, h, w, c, s) {
      need(x.length === n * h * w * c * s * s, 'spaceToDepth: length does not match the shape');
      const out = alloc(x.length);
      kernel(shuffleName(true, c, s), { op: 'shuffle', c, s })(x, out, n, h, w);
      return out;
    },

    sum: (x) => reduce('sum', x),
    distance(a, b, p) {
      need(a.length === b.length, `distance: lengths ${a.length} and ${b.length} differ`);
      return reduce(p === 1 ? 'dist1' : 'dist2', a, b);
    },
    accumulate(acc, x) {
      need(acc.length === x.length, `accumulate: lengths ${acc.length} and ${x.length} differ`);
      kernel('accumulate')(acc, x, acc, acc.length);
    },
    adamStep(param, grad, m, v, p: AdamParams) {
      const n = param.length;
      need(grad.length === n && m.length === n && v.length === n, 'adamStep: param, grad, m and v differ in length');
      const c1 = 1 - p.beta1 ** p.step;
      const c2 = 1 - p.beta2 ** p.step;
      kernel('adam')(param, grad, m, v, n, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, c1, c2);
    },
  };
}

/** The process-wide native backend with default options; nothing is probed or compiled until first use. */
export const nativeBackend: NativeBackend = createNativeBackend();
