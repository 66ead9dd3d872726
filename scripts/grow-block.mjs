#!/usr/bin/env node
// A trained WDSR-B model file with one more block that starts as the identity (src/models/grow.ts): the grown
// network computes what the trained one did, and training it on (`rtsr train --init OUT`) uses the added block.
// Its training branches, if any, are kept, and the new block has them too.
//
// Usage: node scripts/grow-block.mjs IN.rtsr OUT.rtsr AT M1 M2 [SEED]   (AT: the new block's index, the block
//   count puts it after the last; SEED draws the new block's 1×1 convs, default 7 as for docs/training.md's runs)
import { withIdentityBlock } from '../dist/src/models/grow.js';
import { loadModel, saveModel } from '../dist/src/models/model-io.js';

const [from, to, ...numbers] = process.argv.slice(2);
const [at, m1, m2, seed = 7] = numbers.map(Number);
if (numbers.length < 3 || numbers.length > 4 || ![at, m1, m2, seed].every(Number.isInteger)) {
  console.error('usage: node scripts/grow-block.mjs IN.rtsr OUT.rtsr AT M1 M2 [SEED]');
  process.exit(2);
}
const fail = (message) => {
  console.error(message);
  process.exit(1);
};
let model;
let grown;
try {
  ({ model } = loadModel(from));
} catch (err) {
  fail(err.message); // loadModel's errors name the file
}
try {
  grown = withIdentityBlock(model, at, { m1, m2 }, seed);
} catch (err) {
  fail(`${from}: ${err.message}`);
}
saveModel(to, grown);
console.log(`${to}: ${from} with a block {${m1}, ${m2}} at ${at} (${grown.spec.blocks.length} blocks), starting as the identity`);
