// The wasm target's Node host: worker_threads for the pool, V8's relaxed-SIMD flag (Node 20 keeps it behind
// one), the machine's cores, and tuning choices as one JSON file per key under the rtsr cache directory,
// written atomically and checked against their key when read.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { defaultCacheDir } from '../../backends/native/compile.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { hashHex } from '../../util/hash.js';
import type { TuningStore, WasmHost } from './host.js';
import { createWasmTarget } from './index.js';

const stores = new Map<string, TuningStore>();

/** One store per directory, so that the tuner's in-process memory (kept per store) spans every runner. */
function fileStore(cacheDir = defaultCacheDir()): TuningStore {
  let store = stores.get(cacheDir);
  if (!store) stores.set(cacheDir, (store = jsonFiles(join(cacheDir, 'wasm-tuning'))));
  return store;
}

function jsonFiles(dir: string): TuningStore {
  const path = (key: string) => join(dir, `${hashHex(key)}.json`);
  return {
    load(key) {
      try {
        const p = path(key);
        const saved = existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { key?: unknown; value?: unknown }) : {};
        return saved.key === key ? saved.value : undefined;
      } catch {
        // A torn, foreign or edited file is measured again and overwritten.
        return undefined;
      }
    },
    save: (key, value) => writeFileAtomic(path(key), JSON.stringify({ key, value })),
  };
}

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
  tuningStore: fileStore,
};

export const wasmTarget = createWasmTarget(nodeHost);
