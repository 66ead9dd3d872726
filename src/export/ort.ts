// onnxruntime harness for exported models: a CPU session with pinned threading — onnxruntime-node's CPU
// provider, or onnxruntime-web's WebAssembly backend (SIMD, the anchor of our wasm target) —, runs on our NHWC
// tensors, and a timing protocol (warm-up runs, then the median of timed runs) for comparisons against rtsr.
import type * as ort from 'onnxruntime-common';
import { Tensor } from '../engine/tensor.js';

/** 'onnxruntime' is onnxruntime-node; 'onnxruntime-webgpu' is onnxruntime-web's WebGPU execution provider. */
export type OrtRuntime = 'onnxruntime' | 'onnxruntime-web' | 'onnxruntime-webgpu';
export const ORT_RUNTIMES: readonly OrtRuntime[] = ['onnxruntime', 'onnxruntime-web', 'onnxruntime-webgpu'];

/** onnxruntime-web's WebGPU build in Node: Dawn (the optional `webgpu` package) as `navigator.gpu`, so that it asks
 *  Dawn for the default adapter, the one the webgpu target runs on where Dawn has one. */
async function loadWebGpu(): Promise<OrtModule> {
  const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): unknown; globals: object };
  Object.assign(globalThis, dawn.globals);
  if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
  return (await import('onnxruntime-web/webgpu')) as OrtModule;
}

interface OrtModule {
  readonly InferenceSession: typeof ort.InferenceSession;
  readonly Tensor: typeof ort.Tensor;
  readonly env: ort.Env;
}

const modules = new Map<OrtRuntime, OrtModule>();

/** onnxruntime-web takes its thread count once per process, before its first session. */
let webThreads: number | null = null;

async function load(runtime: OrtRuntime, threads: number): Promise<OrtModule> {
  let m = modules.get(runtime);
  if (!m) {
    m = runtime === 'onnxruntime-webgpu' ? await loadWebGpu() : ((await import(runtime === 'onnxruntime' ? 'onnxruntime-node' : 'onnxruntime-web')) as OrtModule);
    modules.set(runtime, m);
  }
  if (runtime === 'onnxruntime-web') {
    if (webThreads !== null && webThreads !== threads) throw new Error(`onnxruntime-web runs on ${webThreads} threads in this process; it cannot switch to ${threads}`);
    webThreads = threads;
    m.env.wasm.numThreads = threads;
    m.env.wasm.simd = true;
  }
  return m;
}

export interface OrtTiming {
  /** Median wall time of one session.run, layout conversion excluded. */
  medianMs: number;
  /** The last timed run's output, NHWC. */
  output: Tensor;
}

const sessions = new WeakMap<ort.InferenceSession, OrtModule>();

/** A CPU session: `threads` intra-op threads, one inter-op thread, sequential execution, all graph optimisations. */
export async function ortSession(bytes: Uint8Array, threads = 2, runtime: OrtRuntime = 'onnxruntime'): Promise<ort.InferenceSession> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`ortSession: threads must be an integer ≥ 1, got ${threads}`);
  const m = await load(runtime, threads);
  try {
    const session = await m.InferenceSession.create(bytes, {
      executionProviders: [{ onnxruntime: 'cpu', 'onnxruntime-web': 'wasm', 'onnxruntime-webgpu': 'webgpu' }[runtime]],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    sessions.set(session, m);
    return session;
  } catch (err) {
    // Its WebGPU EP needs a core-mode adapter: a GPU (Dawn's software GL backends offer compatibility mode only).
    const where = runtime === 'onnxruntime-webgpu' ? ' (it needs a WebGPU adapter in core mode, i.e. a GPU)' : '';
    throw new Error(`${runtime} cannot load the model${where} (${bytes.length} bytes): ${(err as Error).message}`);
  }
}

/** Runs an RGB batch x [n,h,w,3] through a one-input, one-output image model; returns [n,H,W,3]. */
export async function ortRun(session: ort.InferenceSession, x: Tensor): Promise<Tensor> {
  return fromOrt(await session.run(feeds(session, x)), session);
}

/** `warmup` untimed runs (first-run allocation and kernel selection), then the median of `repeats` timed ones. */
export async function ortTime(session: ort.InferenceSession, x: Tensor, { warmup = 3, repeats = 10 } = {}): Promise<OrtTiming> {
  if (!Number.isInteger(warmup) || warmup < 0 || !Number.isInteger(repeats) || repeats < 1)
    throw new Error(`ortTime: needs warmup ≥ 0 and repeats ≥ 1 (integers), got warmup ${warmup}, repeats ${repeats}`);
  const input = feeds(session, x);
  for (let i = 0; i < warmup; i++) await session.run(input);
  const ms: number[] = [];
  let result!: ort.InferenceSession.ReturnType;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    result = await session.run(input);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const mid = ms.length >> 1;
  return { medianMs: ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2, output: fromOrt(result, session) };
}

function feeds(session: ort.InferenceSession, x: Tensor): ort.InferenceSession.FeedsType {
  if (x.shape.length !== 4) throw new Error(`ortRun: input must be NHWC, got [${x.shape}]`);
  const [n, h, w, c] = x.shape;
  return { [session.inputNames[0]]: new (sessions.get(session)!.Tensor)('float32', relayout(x.data, n, h, w, c, true), [n, c, h, w]) };
}

function fromOrt(result: ort.InferenceSession.ReturnType, session: ort.InferenceSession): Tensor {
  const name = session.outputNames[0];
  const y = result[name];
  if (y.type !== 'float32' || y.dims.length !== 4) throw new Error(`ortRun: output '${name}' is ${y.type} [${y.dims}], expected float32 NCHW`);
  const [n, c, h, w] = y.dims;
  return new Tensor(relayout(y.data as Float32Array, n, h, w, c, false), [n, h, w, c]);
}

/** NHWC → NCHW (`toNchw`) or back, for a batch of n images of h×w×c. */
function relayout(data: Float32Array, n: number, h: number, w: number, c: number, toNchw: boolean): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const nhwc = ((b * h + y) * w + x) * c + ch;
          const nchw = ((b * c + ch) * h + y) * w + x;
          if (toNchw) out[nchw] = data[nhwc];
          else out[nhwc] = data[nchw];
        }
  return out;
}
