// A tuning store in a Map that counts what a tuner does with it: the tuner tests of the wasm and WebGPU targets.
import type { TuningStore } from '../../src/targets/tuning.js';

export function memoryStore(entries = new Map<string, unknown>()) {
  const stats = { loads: 0, saves: 0 };
  const store: TuningStore = {
    load: (k) => (stats.loads++, entries.get(k)),
    save: (k, v) => (stats.saves++, entries.set(k, v)),
  };
  return { store, entries, stats };
}
