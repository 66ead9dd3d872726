// Command-line arguments that used to start minutes of work, or fail deep inside with a JavaScript error, are
// refused up front with a message naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = resolve(dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

/** Runs rtsr with an empty kernel cache; the timeout fails a command that starts working instead of refusing. */
function rtsr(...args: string[]) {
  const cache = mkdtempSync(join(tmpdir(), 'rtsr-args-cache-'));
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20e3, env: { ...process.env, RTSR_CACHE_DIR: cache } });
  return { code: r.status, err: r.stderr, cacheFiles: readdirSync(cache) };
}

test('search refuses a bad scale, budget or input before profiling anything', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'rtsr-args-')), 'search');
  const cases: [string[], RegExp][] = [
    [['--scale', '5', '--budget-ms', '33'], /--scale must be an integer in \[2, 4\], got '5'/],
    [['--budget-ms', 'Infinity'], /--budget-ms must be a positive number of milliseconds, got 'Infinity'/],
    [['--budget-ms', '0'], /--budget-ms must be a positive number of milliseconds, got '0'/],
    [[], /search needs --budget-ms/],
    [['--budget-ms', '33', '--input', '99999999x99999999'], /--input 99999999x99999999: at most 8192 pixels a side/],
  ];
  for (const [args, message] of cases) {
    const r = rtsr('search', '--quick', '--out', out, ...args);
    assert.equal(r.code, 2, `${args}: ${r.err}`);
    assert.match(r.err, message);
    assert.deepEqual(r.cacheFiles, [], 'nothing compiled');
    assert.ok(!existsSync(out), 'nothing written');
  }
});

test('bench and info cap --input with a message, not "Invalid typed array length"', () => {
  for (const cmd of [['bench', '--arch', 'wdsr-b-1x4'], ['info', 'wdsr-b-1x4']]) {
    const r = rtsr(...cmd, '--input', '99999999x99999999');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^rtsr: --input 99999999x99999999: at most 8192 pixels a side\n$/);
  }
  const r = rtsr('bench', '--arch', 'wdsr-b-1x4', '--arch', 'wdsr-b-1x2', '--input', '8x8', '--budget-ms', 'Infinity');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--budget-ms must be a positive number of milliseconds, got 'Infinity'/);
});
