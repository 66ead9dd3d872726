// The Node entry of a wasm target worker: worker.ts's handler on worker_threads' port.
import { parentPort } from 'node:worker_threads';
import { workerHandler } from './worker.js';

parentPort!.on('message', workerHandler());
