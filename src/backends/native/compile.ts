// C source → loaded N-API module: find the compiler, cache the shared object on disk under a hash of
// everything that determines its bytes, compile atomically, and load it with process.dlopen only after its
// recorded size and sha256 match: dlopen of a truncated module dies of SIGBUS, and a flipped bit computes
// wrong numbers, so an unverified module is rebuilt, never trusted.
import { spawnSync, type SpawnSyncOptionsWithStringEncoding } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, constants, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { type KernelSource, moduleSource, type Target } from './glue.js';

export interface Toolchain {
  readonly cc: string;
  /** First line of `cc --version`. */
  readonly version: string;
  readonly flags: readonly string[];
  /** The predefined macros of `-march=native`: a cached module built for another CPU must never load here. */
  readonly targetMacros: string;
  readonly target: Target;
}

export type NativeArg = Float32Array | Float64Array | Int32Array | Uint8Array | number | null;
export interface NativeModule {
  readonly call: (index: number, ...args: NativeArg[]) => void;
  readonly path: string;
}

/** Compiles run by this process (a cache hit adds nothing): lets tests and benchmarks see the cache work. */
export const compileStats = { compiles: 0, compileMs: 0 };

/** Each compiler name probed in this process: its toolchain, or why it is unusable. */
const probes = new Map<string, Toolchain | string>();

/** Runs the compiler in its own process group: Ctrl-C at the terminal reaches rtsr, whose handler (e.g.
 *  train's save-and-stop) runs once the compile ends, but not the compiler, which would otherwise die mid-file. */
function run(cmd: string, args: readonly string[]): string {
  // spawnSync honours `detached` (a new process group) though neither node's docs nor its types list it.
  const options: SpawnSyncOptionsWithStringEncoding & { detached: boolean } = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], detached: true };
  const r = spawnSync(cmd, args, options);
  if (r.error) throw r.error;
  if (r.status !== 0) throw Object.assign(new Error(`${cmd} exited with ${r.status ?? r.signal}`), { stderr: r.stderr });
  return r.stdout;
}

/** The order README promises when CC is unset. */
const DEFAULT_COMPILERS = ['cc', 'gcc', 'clang'];

function targetOf(macros: string): Target {
  const has = (m: string) => new RegExp(`#define ${m} `).test(macros);
  if (has('__AVX512F__')) return { vw: 16, nreg: 32 };
  if (has('__AVX__')) return { vw: 8, nreg: 16 };
  return { vw: 4, nreg: has('__aarch64__') ? 32 : 16 };
}

/** The C compiler: `cc` if given, else `$CC`, else the first of cc, gcc, clang that runs and supports OpenMP;
 *  null when none does. A set `$CC` that does not work is an error naming it, not a quiet fallback to another
 *  compiler or to the slow reference backend. Probed once per compiler and process. */
export function findToolchain(cc?: string): Toolchain | null {
  if (cc !== undefined) return usable(probe(cc));
  const env = process.env.CC;
  if (env) {
    const p = probe(env);
    if (typeof p === 'string') throw new Error(`CC='${env}' ${p}; fix CC or unset it (rtsr then tries ${DEFAULT_COMPILERS.join(', ')})`);
    return p;
  }
  for (const name of DEFAULT_COMPILERS) {
    const tc = usable(probe(name));
    if (tc) return tc;
  }
  return null;
}

const usable = (p: Toolchain | string) => (typeof p === 'string' ? null : p);

function probe(cc: string): Toolchain | string {
  if (!probes.has(cc)) probes.set(cc, probeUncached(cc));
  return probes.get(cc)!;
}

function probeUncached(cc: string): Toolchain | string {
  let version: string;
  let targetMacros: string;
  try {
    version = run(cc, ['--version']).split('\n')[0].trim();
    targetMacros = run(cc, ['-march=native', '-fopenmp', '-dM', '-E', '-x', 'c', '/dev/null']);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return e.code === 'ENOENT' ? 'is not a command on PATH' : `does not run as a C compiler (${(e.stderr || e.message).trim().split('\n')[0]})`;
  }
  if (!/#define _OPENMP /.test(targetMacros)) return 'does not support OpenMP (-fopenmp)';
  const include = join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
  const flags = ['-O3', '-march=native', '-fopenmp', '-fPIC', '-shared', '-std=gnu11', '-fvisibility=hidden',
    // Safe: no errno from sqrt and no FP traps, so sqrt and compares vectorise; results are unchanged.
    '-fno-math-errno', '-fno-trapping-math', `-I${include}`,
    ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [])];
  return { cc, version, flags, targetMacros, target: targetOf(targetMacros) };
}

/** OpenMP's thread count for our kernels: `$OMP_NUM_THREADS`, else every core. */
export function ompThreads(): number {
  return Number(process.env.OMP_NUM_THREADS) || availableParallelism();
}

/** `$RTSR_CACHE_DIR`, else `$XDG_CACHE_HOME/rtsr/native`, else `~/.cache/rtsr/native`. */
export function defaultCacheDir(): string {
  if (process.env.RTSR_CACHE_DIR) return process.env.RTSR_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rtsr', 'native');
}

/** Where the module for this source lives: named by a hash of the source, compiler, version, flags and CPU. */
export function modulePath(source: string, tc: Toolchain, cacheDir: string): string {
  const h = createHash('sha256');
  for (const part of [source, tc.cc, tc.version, tc.flags.join(' '), tc.targetMacros]) h.update(part).update('\0');
  return join(cacheDir, `${h.digest('hex')}.node`);
}

function dlopen(path: string): NativeModule {
  const m = { exports: {} as { call?: NativeModule['call'] } };
  // libgomp reads its settings once, when the first module pulls it in. Its default spin-waiting gains
  // nothing measurable on an idle machine but turns barriers into stalls of several ms when another process
  // shares a core (a conv5x32 training step: 364 ms spinning, 95 ms passive, 53 ms either way when idle).
  // Set only for the load, so child processes (e.g. the PyTorch bench) keep their own defaults.
  const passive = process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined;
  if (passive) process.env.OMP_WAIT_POLICY = 'passive';
  try {
    process.dlopen(m, path, constants.dlopen.RTLD_NOW);
  } finally {
    if (passive) delete process.env.OMP_WAIT_POLICY;
  }
  if (typeof m.exports.call !== 'function') throw new Error(`${path}: not an rtsr native module`);
  return { call: m.exports.call, path };
}

const sumPath = (module: string) => module.replace(/\.node$/, '.sum');

/** A module file's size and sha256, as recorded beside it in `<hash>.sum`. */
function fileSum(path: string): string {
  const bytes = readFileSync(path);
  return `${bytes.length} ${createHash('sha256').update(bytes).digest('hex')}\n`;
}

/** Whether the module at `path` is byte for byte the one compiled there (false for a module without a sum). */
function verified(path: string): boolean {
  try {
    return readFileSync(sumPath(path), 'utf8') === fileSum(path);
  } catch {
    return false;
  }
}

function compile(source: string, tc: Toolchain, out: string): void {
  const cPath = out.replace(/\.node$/, '.c');
  writeFileAtomic(cPath, source);
  // Compile beside the final file and rename: a concurrent process or a killed run never sees half a module.
  const tmp = `${out}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const t0 = performance.now();
  try {
    run(tc.cc, [...tc.flags, '-o', tmp, cPath]);
    // On disk before it has a name, and its checksum recorded only once it has: a crash leaves no module
    // that passes verification without being whole.
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const sum = fileSum(tmp);
    renameSync(tmp, out);
    writeFileAtomic(sumPath(out), sum);
  } catch (err) {
    rmSync(tmp, { force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`native: compiling ${cPath} failed (${tc.cc}):\n${e.stderr || e.message}`);
  }
  compileStats.compiles++;
  compileStats.compileMs += performance.now() - t0;
}

/** The cache's size cap: `$RTSR_CACHE_MAX_MB`, else 512 MB (a 400-sample profile adds ~50 MB of modules). */
export function cacheLimitBytes(): number {
  return (Number(process.env.RTSR_CACHE_MAX_MB) || 512) * 2 ** 20;
}

/** Deletes the least recently used modules (with their .c and .sum) until the cache holds at most `limitBytes`, and
 *  compiler temp files over an hour old (a killed compile's). A module's mtime is its last use: loadModule
 *  refreshes it. Deleting a module another process has loaded is safe (its mapping stays); one about to
 *  load it sees it fail and rebuilds it. Returns the modules removed. */
export function pruneCache(cacheDir: string, limitBytes: number): number {
  const now = Date.now();
  const modules = new Map<string, { used: number; bytes: number }>();
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    if (name.endsWith('.tmp')) {
      if (now - st.mtimeMs > 3600e3) rmSync(path, { force: true });
      continue;
    }
    const m = /^([0-9a-f]{64})\.(node|c|sum)$/.exec(name);
    if (!m) continue;
    const entry = modules.get(m[1]) ?? { used: 0, bytes: 0 };
    entry.bytes += st.size;
    if (m[2] === 'node') entry.used = st.mtimeMs;
    modules.set(m[1], entry);
  }
  let total = [...modules.values()].reduce((a, e) => a + e.bytes, 0);
  let removed = 0;
  for (const [hash, e] of [...modules].sort((a, b) => a[1].used - b[1].used)) {
    if (total <= limitBytes) break;
    for (const ext of ['node', 'c', 'sum']) rmSync(join(cacheDir, `${hash}.${ext}`), { force: true });
    total -= e.bytes;
    removed++;
  }
  return removed;
}

/** Cache folders this process has pruned: once each, at its first compile there. */
const pruned = new Set<string>();

/** Loads the module for `source`, compiling it first unless the cache holds it; a cached file that fails its
 *  recorded size and sha256, has none, or does not load is rebuilt over. The generated .c stays beside it. */
export function loadModule(source: string, tc: Toolchain, cacheDir: string = defaultCacheDir()): NativeModule {
  mkdirSync(cacheDir, { recursive: true });
  const path = modulePath(source, tc, cacheDir);
  if (existsSync(path)) {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // A read-only shared cache still serves its modules; only their pruning order goes stale.
    }
    if (verified(path)) {
      try {
        return dlopen(path);
      } catch {
        // Whole but not loadable here (another node ABI, say): rebuilt below.
      }
    }
  }
  if (!pruned.has(cacheDir)) {
    pruned.add(cacheDir);
    pruneCache(cacheDir, cacheLimitBytes());
  }
  compile(source, tc, path);
  return dlopen(path);
}

/** Compiles `kernels` for target `t` (one module per vector width among them, most often one) and returns each
 *  kernel's entry point, in order. */
export function loadKernels(t: Target, kernels: readonly KernelSource[], tc: Toolchain, cacheDir: string = defaultCacheDir()): ((...args: NativeArg[]) => void)[] {
  const calls: ((...args: NativeArg[]) => void)[] = [];
  const width = (k: KernelSource) => k.vw ?? t.vw;
  for (const vw of new Set(kernels.map(width))) {
    const group = kernels.flatMap((k, i) => (width(k) === vw ? [i] : []));
    const mod = loadModule(moduleSource({ vw, nreg: t.nreg }, group.map((i) => kernels[i])), tc, cacheDir);
    group.forEach((i, j) => (calls[i] = (...args) => mod.call(j, ...args)));
  }
  return calls;
}
