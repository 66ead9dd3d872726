// A fast non-cryptographic string hash for names and cache keys that must be the same in Node and in a
// browser (no `node:crypto` there): two independent 53-bit lanes (cyrb53's mixing), 106 bits in all — far
// beyond what a few thousand kernel names can collide in. Not for checksums of untrusted data.

function lane(s: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** 28 hex digits of `s`'s hash. */
export function hashHex(s: string): string {
  return [lane(s, 0), lane(s, 0x9e3779b9)].map((v) => v.toString(16).padStart(14, '0')).join('');
}
