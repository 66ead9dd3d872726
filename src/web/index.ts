// rtsr in a browser (and in any ESM runtime): decode a model file, compile it for WebAssembly SIMD (threads where
// the page is cross-origin isolated) or the reference interpreter, and upscale frames. Imports no `node:*`: the
// bundle (scripts/build-web.mjs) is checked for that.
import { compile, type CompiledModel, type CompileOptions } from '../compiler/compile.js';
import { type RgbImage, rgbImage } from '../image/image.js';
import { decodeModel } from '../models/model-file.js';
import { referenceTarget } from '../targets/reference/index.js';
import type { Target } from '../targets/target.js';
import { createWasmTarget } from '../targets/wasm/index.js';
import { browserHost } from './host.js';

export { compile, decodeModel, referenceTarget, rgbImage, type CompiledModel, type CompileOptions, type RgbImage, type Target };

/** The wasm target with Web Workers from `worker.js` beside this module. */
export const wasmTarget: Target = createWasmTarget(browserHost(new URL('./worker.js', import.meta.url)));
