// The Node flavour of the web entry, bundled into compiled-model artifacts (`rtsr compile`): the same API with
// the wasm target on worker_threads, and a file reader (Node's fetch cannot read file: URLs).
export { compile, decodeModel, referenceTarget, rgbImage } from './index.js';
export { wasmTarget } from '../targets/wasm/node.js';
export { readFile } from 'node:fs/promises';
