#!/usr/bin/env node
// Rewrites tensor files (models, checkpoints) of container v1, whose header was not checksummed, as v2, whose
// checksum covers the header too. The v1 data checksum is checked first, so only intact files are converted;
// files already in v2 are left as they are.
// Usage: npm run build && scripts/upgrade-tensor-files.mjs FILE…
import { readFileSync } from 'node:fs';
const dist = new URL('../dist/src/', import.meta.url);
const { decodeTensors, encodeTensors } = await import(new URL('engine/serialize.js', dist).href);
const { writeFileAtomic } = await import(new URL('util/atomic.js', dist).href);

for (const path of process.argv.slice(2)) {
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 8).toString('latin1') !== 'RTSRTNS1') {
    decodeTensors(bytes, path); // refuses anything that is not an intact v2 file
    console.log(`${path}: already v2`);
    continue;
  }
  const { tensors, meta } = decodeTensors(bytes, path, { acceptV1: true });
  writeFileAtomic(path, encodeTensors(tensors, meta));
  console.log(`${path}: converted to v2`);
}
