// What the wasm target needs from the platform it runs on, injected so that everything but the host itself
// (node.ts for Node; a page's own for a browser) is free of `node:*` and of any one worker API.
import type { TuningStore } from '../tuning.js';

/** A started worker running the wasm target's worker entry (whose messages go to worker.ts's handler). */
export interface WorkerLike {
  postMessage(msg: unknown): void;
  terminate(): unknown;
  /** `cb` runs if the worker dies (failed to start, crashed): threads waiting on it are then released. */
  onError(cb: (err: Error) => void): void;
}


export interface WasmHost {
  /** The engine, for describe() and tuning keys: e.g. `node v20.20.2 (V8 11.3)`. */
  readonly engine: string;
  /** Logical cores: the default thread count where threads work. */
  readonly cores: number;
  /** Whether the thread that runs models may block in Atomics.wait (Node's main thread may; a browser's may not,
   *  and then waits with Atomics.waitAsync). */
  readonly canBlock: boolean;
  /** Starts a worker for the thread pool; absent where there are none (then every model runs on one thread). */
  spawnWorker?(): WorkerLike;
  /** Turns on relaxed SIMD where the engine has it behind a flag (Node 20's V8): called once, only if the engine
   *  does not validate it as it is. */
  enableRelaxedSimd?(): void;
  /** A persistent store for tuning choices under `cacheDir` (the host's default when undefined). */
  tuningStore?(cacheDir: string | undefined): TuningStore;
}
