// The wasm target's Node host: worker_threads for the pool, V8's relaxed-SIMD flag (Node 20 keeps it behind
// one), the machine's cores, and tuning choices in the rtsr cache directory's wasm-tuning folder (tuning-files.ts).
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { tuningFiles } from '../tuning-files.js';
import type { WasmHost } from './host.js';
import { createWasmTarget } from './index.js';

export const nodeHost: WasmHost = {
  engine: `node ${process.version} (V8 ${process.versions.v8})`,
  cores: availableParallelism(),
  canBlock: true,
  spawnWorker() {
    // Workers inherit the process's flags, and --input-type (node -e with ES modules) stops a file worker.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const w = new Worker(new URL('./worker-node.js', import.meta.url), { execArgv });
    // The pool never lets an idle worker keep the process alive.
    w.unref();
    return { postMessage: (m) => w.postMessage(m), terminate: () => w.terminate(), onError: (cb) => w.once('error', cb) };
  },
  enableRelaxedSimd: () => setFlagsFromString('--experimental-wasm-relaxed-simd'),
  tuningStore: (cacheDir) => tuningFiles('wasm-tuning', cacheDir),
};

export const wasmTarget = createWasmTarget(nodeHost);
