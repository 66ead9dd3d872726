#!/usr/bin/env node
// Tunes one training conv geometry afresh, as `rtsr train` does at its first call, and prints every candidate's
// fastest time (ms a call, at the training threads), the choice, and how long tuning took (compiles included).
// Build first (`npx tsc -p .`), stop other work, then: node scripts/tune-conv.mjs H W CIN COUT K [BATCH]
// e.g. node scripts/tune-conv.mjs 48 48 20 24 3 16 (wdsr-b's 3×3 conv at the bench's batch).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCompiler } from '../dist/src/backends/native/index.js';
import { tuneConv } from '../dist/src/backends/native/tune.js';

const [h, w, cin, cout, k, n = 16] = process.argv.slice(2).map(Number);
if (!(h && w && cin && cout && k)) throw new Error('usage: node scripts/tune-conv.mjs H W CIN COUT K [BATCH]');
const tc = findCompiler();
if (!tc) throw new Error('no C compiler with OpenMP');
const dir = mkdtempSync(join(tmpdir(), 'rtsr-tune-conv-'));
const t0 = performance.now();
const choice = tuneConv({ h, w, cin, cout, k }, n, { tc, target: tc.target, cacheDir: dir });
const seconds = (performance.now() - t0) / 1000;
for (const f of readdirSync(join(dir, 'tuning'))) {
  for (const m of JSON.parse(readFileSync(join(dir, 'tuning', f), 'utf8')).measured) console.log(`${m.kind.padEnd(4)}${m.ms.toFixed(3).padStart(8)} ms  ${JSON.stringify(m.blocking)}`);
}
console.log(`chosen: ${JSON.stringify(choice)}\ntuning took ${seconds.toFixed(1)} s`);
rmSync(dir, { recursive: true, force: true });
