// rtsr/web: super-resolution in a page (and in any ESM runtime). `loadModel()` decodes a model file, compiles it
// for the best target this device runs — registered ones first, then WebGPU (`navigator.gpu`), else WebAssembly
// SIMD (threads where the page is cross-origin isolated) — and upscales frames. The lower-level pieces (compile,
// decodeModel, the targets) are exported too. Imports no `node:*`: the bundle (scripts/build-web.mjs) is checked
// for that.
import { compile, type CompiledModel, type CompileOptions } from '../compiler/compile.js';
import { type RgbImage, rgbImage } from '../image/image.js';
import { decodeModel } from '../models/model-file.js';
import { referenceTarget } from '../targets/reference/index.js';
import type { Target } from '../targets/target.js';
import { createWasmTarget } from '../targets/wasm/index.js';
import type { GpuAdapter } from '../targets/webgpu/gpu.js';
import { createWebGpuTarget } from '../targets/webgpu/index.js';
import { browserHost, localStore } from './host.js';
import { loadModel as load, type LoadOptions, type ModelSource, type Upscaler } from './upscaler.js';

export { compile, decodeModel, referenceTarget, rgbImage, type CompiledModel, type CompileOptions, type RgbImage, type Target };
export { chooseTarget, type Choice } from './choose.js';
export { rgbaToRgb, rgbToImageData, type FrameSource } from './frames.js';
export type { LoadOptions, ModelSource, Upscaler };

/** The wasm target with Web Workers from `worker.js` beside this module. */
export const wasmTarget: Target = createWasmTarget(browserHost(new URL('./worker.js', import.meta.url)));

const webgpuStore = localStore('rtsr-webgpu-tuning-');

/** The WebGPU target on the page's `navigator.gpu`, its tuned schedules in localStorage. */
export const webgpuTarget: Target = createWebGpuTarget({
  async adapter() {
    const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapter | null> } } }).navigator?.gpu;
    if (!gpu) return 'this browser has no WebGPU (navigator.gpu), or the page is not a secure context (https or localhost)';
    return (await gpu.requestAdapter()) ?? 'WebGPU found no adapter on this device';
  },
  runtime: () => 'WebGPU (navigator.gpu)',
  tuningStore: () => webgpuStore,
});

const registered: Target[] = [];

/** Offers another target to loadModel, preferred to those registered before it, to WebGPU and to wasm. */
export function registerTarget(target: Target): void {
  registered.unshift(target);
}

/** The candidates loadModel tries, most preferred first. */
export const webTargets = (): Target[] => [...registered, webgpuTarget, wasmTarget];

/** Loads a model file (URL, bytes or File) and compiles it for this device: see Upscaler.target and .reason. */
export function loadModel(src: ModelSource, opts: LoadOptions = {}): Promise<Upscaler> {
  return load(src, webTargets(), opts);
}
