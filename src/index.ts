// rtsr's library API: the engine (tensors, autograd, ops, optimisers), backends, file formats, and the compiler with its
// targets.
export type { Backend, ConvShape } from './backends/backend.js';
export { referenceBackend } from './backends/reference.js';
export { selectBackend, BACKEND_NAMES, type BackendName } from './backends/index.js';
export { Tensor, useBackend, backend } from './engine/tensor.js';
export * as ops from './engine/ops.js';
export { Adam, type AdamOptions, type AdamState } from './engine/optim.js';
export { multiStep, cosine, type Schedule } from './engine/schedule.js';
export { encodeTensors, decodeTensors, type TensorFile } from './engine/serialize.js';
export { saveTensors, loadTensors } from './engine/tensor-file.js';
export { Rng } from './util/random.js';
export { compile, optimizedGraph, type CompiledModel, type CompileOptions } from './compiler/compile.js';
export { defaultTarget, getTarget, TARGET_NAMES } from './targets/registry.js';
export type { Target, TargetName } from './targets/target.js';
