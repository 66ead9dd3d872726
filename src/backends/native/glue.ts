// The C around the generated kernels: one N-API function `call(index, ...args)` that turns typed arrays into
// pointers (p[]) and numbers into doubles (s[]) and runs kernel_table[index](p, s). Keeping the glue this
// generic means a new kernel is only C text, never new binding code.

/** The SIMD shape kernels are generated for: float lanes per vector and architectural vector registers. */
export interface Target {
  readonly vw: 4 | 8 | 16;
  readonly nreg: 16 | 32;
}

/** One generated kernel: `code` defines `static void k_<name>(void** p, const double* s)`. */
export interface KernelSource {
  readonly name: string;
  readonly code: string;
  /** The vector width it was generated for, where that may differ from the module target's (a tuned conv
   *  blocking's lanes): such kernels compile in a module of their own width (compile.ts, loadKernels). */
  readonly vw?: Target['vw'];
}

/** Most pointer and scalar arguments one call may pass (each). */
const MAX_ARGS = 16;

function prelude(t: Target): string {
  return `#include <node_api.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define VW ${t.vw}
/* Typed arrays are only 4-byte aligned, so every vector access is declared unaligned. */
typedef float vf __attribute__((vector_size(VW * 4), aligned(4)));
typedef int vi __attribute__((vector_size(VW * 4), aligned(4)));

static inline vf vload(const float* p) { return *(const vf*)p; }
static inline void vstore(float* p, vf v) { *(vf*)p = v; }
static inline vf vrelu(vf a) { return (vf)((vi)a & (a > (vf){0})); }
/* A literal, not (vf){0} + a: without -ffast-math gcc keeps that + 0 (it turns -0 into +0) as an extra add. */
static inline vf vbroadcast(float a) { return (vf){ ${Array.from({ length: t.vw }, () => 'a').join(', ')} }; }
/* Lanes [0, from) of a, the rest of b (from a constant): two pixels' inputs in one pixel-packed vector. */
#define LANES ((vi){ ${Array.from({ length: t.vw }, (_, l) => l).join(', ')} })
static inline vf vblend_from(vf a, vf b, int from) {
  const vi m = LANES >= ((vi){0} + from);
  return (vf)(((vi)a & ~m) | ((vi)b & m));
}

/* Partial vectors (a channel tail): one masked instruction with AVX-512 (8 lanes: with its VL extension), a
   copy elsewhere. Reading or writing a full vector would cross the end of the tensor (or race with the next
   row's thread). */
#if defined(__AVX512F__) && VW == 16
#include <immintrin.h>
static inline vf vload_n(const float* p, int n) { return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
static inline void vstore_n(float* p, vf v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v); }
#elif defined(__AVX512VL__) && VW == 8
#include <immintrin.h>
static inline vf vload_n(const float* p, int n) { return (vf)_mm256_maskz_loadu_ps((__mmask8)((1u << n) - 1), p); }
static inline void vstore_n(float* p, vf v, int n) { _mm256_mask_storeu_ps(p, (__mmask8)((1u << n) - 1), (__m256)v); }
#else
static inline vf vload_n(const float* p, int n) { vf v = {0}; memcpy(&v, p, (size_t)n * 4); return v; }
static inline void vstore_n(float* p, vf v, int n) { memcpy(p, &v, (size_t)n * 4); }
#endif

/* Reductions split their work into a fixed number of chunks, each summed into its own partial result; the
   chunks go to whichever thread is free (a busy core then slows the kernel, it does not stall it) and the
   partials are combined in chunk order, so results never depend on timing, nor on the thread count up to 4. */
static inline long nchunks(long units) {
  const long c = 4L * omp_get_max_threads() > 16 ? 4L * omp_get_max_threads() : 16;
  return units < 1 ? 1 : units < c ? units : c;
}

/* Scratch that must exist: a kernel cannot report an error through the table, so running out of memory for
   a few kilobytes of packed weights is fatal. */
static void* xalloc(size_t bytes) {
  void* p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) { fprintf(stderr, "rtsr native: out of memory\\n"); abort(); }
  return p;
}
`;
}

function epilogue(kernels: readonly KernelSource[]): string {
  return `
typedef void (*kernel_fn)(void** p, const double* s);
static const kernel_fn kernel_table[] = { ${kernels.map((k) => `k_${k.name}`).join(', ')} };
#define NKERNELS ${kernels.length}
#define MAX_ARGS ${MAX_ARGS}

static napi_value fail(napi_env env, const char* msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value call(napi_env env, napi_callback_info info) {
  size_t argc = 2 * MAX_ARGS + 1;
  napi_value argv[2 * MAX_ARGS + 1];
  uint32_t index;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || argc > 2 * MAX_ARGS + 1 ||
      napi_get_value_uint32(env, argv[0], &index) != napi_ok || index >= NKERNELS)
    return fail(env, "rtsr native: call(index, ...args): bad index or too many arguments");
  void* p[MAX_ARGS];
  double s[MAX_ARGS];
  int np = 0, ns = 0;
  for (size_t a = 1; a < argc; a++) {
    napi_valuetype t;
    if (napi_typeof(env, argv[a], &t) != napi_ok) return fail(env, "rtsr native: napi_typeof failed");
    if (t == napi_number) {
      if (ns == MAX_ARGS) return fail(env, "rtsr native: too many numbers");
      napi_get_value_double(env, argv[a], &s[ns++]);
    } else {
      if (np == MAX_ARGS) return fail(env, "rtsr native: too many arrays");
      void* data = NULL;
      if (t != napi_null && napi_get_typedarray_info(env, argv[a], NULL, NULL, &data, NULL, NULL) != napi_ok)
        return fail(env, "rtsr native: arguments must be typed arrays, numbers or null");
      p[np++] = data;
    }
  }
  kernel_table[index](p, s);
  return NULL;
}

NAPI_MODULE_INIT() {
#ifdef __GLIBC__
  /* Output tensors are megabytes and die in batches at each GC. By default glibc hands such blocks back to
     the OS (munmap, heap trimming) and every new tensor then page-faults its pages in, which costs as much
     as the kernel that fills it (a 132 MB 640x360x144 output: 52 ms per call instead of 13). Serve every
     block from the heap and keep freed memory for reuse. Process-wide: the resident size stays at its
     high-water mark. (A thread arena that cannot grow retries in the main one, so nothing fails.) */
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  napi_value fn;
  if (napi_create_function(env, "call", NAPI_AUTO_LENGTH, call, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "call", fn) != napi_ok)
    return NULL;
  return exports;
}
`;
}

/** The whole C file of one module; kernel i of the list is `call(i, …)`. */
export function moduleSource(t: Target, kernels: readonly KernelSource[]): string {
  return prelude(t) + kernels.map((k) => `\n/* ${k.name} */\n${k.code}`).join('') + epilogue(kernels);
}
