// Tuning choices kept across calls and processes, for the tuners that time candidates on the device they run on
// (wasm, webgpu): the store a host offers (JSON files in Node, localStorage in a page), and the one lookup they
// share — made once per process and key, else read from the store and trusted only if it is a candidate of
// today's space, else measured and stored. Platform-free.

/** Tuning choices kept across processes, by key (the host hashes it into a file name or a storage key). */
export interface TuningStore {
  /** The value stored under `key`, or undefined; the caller validates it. */
  load(key: string): unknown;
  save(key: string, value: unknown): void;
}

/** Choices made in this process, per scope (a store stands for a cache directory; a host or device without one). */
const chosen = new WeakMap<object, Map<string, Promise<unknown>>>();

/** The choice under `key`: made before in this process (in `scope`), else stored and `valid`, else `measure()`d
 *  and stored. A failed measurement is not remembered: the next caller tries again. */
export function tunedChoice<T>(
  scope: object, store: TuningStore | undefined, key: string, valid: (x: unknown) => x is T, measure: () => Promise<T>,
): Promise<T> {
  let memo = chosen.get(scope);
  if (!memo) chosen.set(scope, (memo = new Map()));
  let t = memo.get(key) as Promise<T> | undefined;
  if (!t) {
    const saved = store?.load(key);
    t = valid(saved) ? Promise.resolve(saved) : measure().then((best) => (store?.save(key, best), best));
    memo.set(key, t);
    t.catch(() => memo.delete(key));
  }
  return t;
}
