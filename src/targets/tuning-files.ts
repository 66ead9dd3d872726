// The Node tuning store: one JSON file per key under a folder of the rtsr cache directory, holding the key
// beside the value, written atomically and ignored when torn or of another key (the tuner then measures again).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir } from '../backends/native/compile.js';
import { writeFileAtomic } from '../util/atomic.js';
import { hashHex } from '../util/hash.js';
import type { TuningStore } from './tuning.js';

const stores = new Map<string, TuningStore>();

/** The store in `cacheDir/folder`: one per folder, so that the tuner's in-process memory (kept per store) spans
 *  every runner. */
export function tuningFiles(folder: string, cacheDir = defaultCacheDir()): TuningStore {
  const dir = join(cacheDir, folder);
  let store = stores.get(dir);
  if (!store) stores.set(dir, (store = jsonFiles(dir)));
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
