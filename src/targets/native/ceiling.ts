// The FP32 FMA ceiling of this machine: the rate a loop of nothing but independent vector fused multiply-adds
// reaches, built by the same toolchain (flags, -march=native, OpenMP) and run on the same threads as the stage
// and training kernels, so that a kernel's GFLOP/s can be read as a share of what the cores can do at all.
import { defaultCacheDir, findToolchain, loadModule, type NativeModule, type Toolchain } from '../../backends/native/compile.js';
import { type KernelSource, moduleSource } from '../../backends/native/glue.js';
import { range } from '../../util/range.js';

/** Independent accumulator chains per thread: enough to cover FMA latency × FMA pipes on the CPUs seen (Zen 4,
 *  Zen 5 and Intel cores need 8; on Zen 5, 16 was 1–5 % faster than 8 and as fast as 12 or 24). */
const CHAINS = 16;

/** Loop of `CHAINS` FMA chains on vectors of `lanes` floats: a = a·m + c with m < 1, so values stay normal. Each
 *  thread times its own loop from a barrier on, so waking the threads is not counted: the ceiling is the cores'. */
function ceilingKernel(lanes: number): KernelSource {
  const name = `fma_ceiling_${lanes}`;
  const a = range(CHAINS).map((i) => `a${i}`);
  const code = `typedef float cv${lanes} __attribute__((vector_size(${lanes * 4})));
/* p = [out: per thread, seconds then a sum that keeps the loop live]; s = [threads, iterations]. */
static void k_${name}(void** p, const double* s) {
  const int nt = (int)s[0];
  const long n = (long)s[1];
  double* out = p[0];
  #pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const float m = 0.999f, c = 1e-3f * (float)(t + 1);
    cv${lanes} ${a.map((x, i) => `${x} = (cv${lanes}){0} + ${i}.0f`).join(', ')};
    #pragma omp barrier
    const double t0 = omp_get_wtime();
    for (long i = 0; i < n; i++) {
${a.map((x) => `      ${x} = ${x} * m + c;`).join('\n')}
    }
    out[2 * t] = omp_get_wtime() - t0;
    out[2 * t + 1] = ${a.map((x) => `${x}[0]`).join(' + ')};
  }
}
`;
  return { name, code };
}

export interface CeilingWidth {
  /** Floats per vector. */
  readonly lanes: number;
  /** The best GFLOP/s seen at this width. */
  readonly gflops: number;
}

/** Vector widths worth trying: the widest the compiler targets and, with AVX-512, 256 bits, which some CPUs
 *  run as fast (one 512-bit FMA unit) or clock higher. */
const widthsOf = (tc: Toolchain) => (tc.target.vw === 16 ? [16, 8] : [tc.target.vw]);

/** A module of ceiling loops, one per vector width; kept per toolchain and cache folder. */
const modules = new Map<string, NativeModule>();

function ceilingModule(tc: Toolchain, cacheDir: string): NativeModule {
  const key = `${tc.cc}\0${cacheDir}`;
  let m = modules.get(key);
  if (!m) modules.set(key, (m = loadModule(moduleSource(tc.target, widthsOf(tc).map(ceilingKernel)), tc, cacheDir)));
  return m;
}

/**
 * Runs the FMA loops on `threads` threads for about `seconds` in all, in calls of a few milliseconds with the
 * widths interleaved, and returns each width's best rate: on a shared machine noise only ever slows a call.
 * Null where there is no C compiler.
 */
export function fmaCeiling(threads: number, seconds: number, cacheDir = defaultCacheDir()): CeilingWidth[] | null {
  const tc = findToolchain();
  if (!tc) return null;
  const m = ceilingModule(tc, cacheDir);
  const widths = widthsOf(tc);
  const out = new Float64Array(2 * threads);
  // The slowest thread's seconds.
  const time = (k: number, n: number) => {
    m.call(k, out, threads, n);
    return Math.max(...out.filter((_, i) => i % 2 === 0));
  };
  // Iterations per call: about 4 ms at the first width's rate.
  let n = 1024;
  time(0, n);
  while (time(0, n) < 4e-3) n *= 2;
  const best = widths.map(() => 0);
  const t0 = performance.now();
  do
    widths.forEach((lanes, k) => {
      best[k] = Math.max(best[k], (2 * CHAINS * lanes * n * threads) / time(k, n) / 1e9);
    });
  while (performance.now() - t0 < seconds * 1e3);
  return widths.map((lanes, k) => ({ lanes, gflops: best[k] }));
}
