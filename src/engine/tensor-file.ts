// Tensor files on disk (node only): the container itself is encoded and decoded in serialize.ts.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { decodeTensors, encodeTensors, type TensorFile, type TensorMap } from './serialize.js';

export function saveTensors(path: string, tensors: TensorMap, meta: Record<string, unknown> = {}): void {
  writeFileAtomic(path, encodeTensors(tensors, meta));
}

/** The bytes of `path`, with a read error that names it. */
export function readFileNamed(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function loadTensors(path: string): TensorFile {
  return decodeTensors(readFileNamed(path), path);
}
