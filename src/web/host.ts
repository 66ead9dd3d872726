// The wasm target's browser host: Web Workers for the thread pool (only where the page is cross-origin isolated,
// the condition for shared memory), the device's cores, and tuning choices kept in localStorage (small JSON, and
// the store's interface is synchronous).
import type { TuningStore } from '../targets/tuning.js';
import type { WasmHost } from '../targets/wasm/host.js';
import { hashHex } from '../util/hash.js';

/** Tuning choices in localStorage under `prefix` + the key's hash (undefined where a page has none). */
export function localStore(prefix: string): TuningStore | undefined {
  const storage = (globalThis as { localStorage?: Storage }).localStorage;
  if (!storage) return undefined;
  const at = (key: string) => `${prefix}${hashHex(key)}`;
  return {
    load(key) {
      try {
        const saved = JSON.parse(storage.getItem(at(key)) ?? '{}') as { key?: unknown; value?: unknown };
        return saved.key === key ? saved.value : undefined;
      } catch {
        return undefined;
      }
    },
    save(key, value) {
      try {
        storage.setItem(at(key), JSON.stringify({ key, value }));
      } catch {
        // A full or disabled storage only costs a re-tune next time.
      }
    },
  };
}

/** `workerUrl`: the bundled worker entry (web/worker.ts), served beside the library. */
export function browserHost(workerUrl: URL): WasmHost {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const store = localStore('rtsr-wasm-tuning-');
  return {
    engine: typeof navigator === 'object' ? navigator.userAgent : 'unknown engine',
    cores: typeof navigator === 'object' ? navigator.hardwareConcurrency || 1 : 1,
    // A page's main thread may not block; a worker's may, but the library cannot tell where it runs.
    canBlock: false,
    spawnWorker: isolated
      ? () => {
          const w = new Worker(workerUrl, { type: 'module' });
          return { postMessage: (m) => w.postMessage(m), terminate: () => w.terminate(), onError: (cb) => w.addEventListener('error', (e) => cb(new Error(e.message))) };
        }
      : undefined,
    tuningStore: store && (() => store),
  };
}
