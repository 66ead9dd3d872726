// The Web Worker entry of the wasm target's thread pool: worker.ts's handler on the worker's messages.
import { workerHandler } from '../targets/wasm/worker.js';

const handle = workerHandler();
self.onmessage = (e: MessageEvent) => handle(e.data);
