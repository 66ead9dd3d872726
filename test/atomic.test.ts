// writeFileAtomic: folders created without node's `mkdir -p` (which spins forever under /proc), temp files
// of killed writers removed by the next write into their folder; file-system errors as one-line causes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkWritable, makeFolder, writeFileAtomic } from '../src/util/atomic.js';
import { fsCause } from '../src/util/errors.js';

const root = mkdtempSync(join(tmpdir(), 'rtsr-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a write removes the temp files that killed writers left in its folder, not those of live ones', () => {
  const dir = mkdtempSync(join(root, 'case-'));
  const gone = spawnSync(process.execPath, ['-e', '']).pid!;
  const stale = `.a.png.${gone}.0123abcd.tmp`;
  const live = `.b.png.${process.pid}.89abcdef.tmp`;
  const other = '.notes.tmp';
  for (const f of [stale, live, other]) writeFileSync(join(dir, f), 'partial');
  writeFileAtomic(join(dir, 'c.txt'), 'new');
  assert.deepEqual(readdirSync(dir).sort(), [live, other, 'c.txt'].sort());
  assert.equal(readFileSync(join(dir, 'c.txt'), 'utf8'), 'new');
});

test('replace: false leaves an existing file as it was and fails with EEXIST; a new file is written', () => {
  const dir = mkdtempSync(join(root, 'case-'));
  writeFileSync(join(dir, 'a.txt'), 'mine');
  assert.throws(() => writeFileAtomic(join(dir, 'a.txt'), 'new', { replace: false }), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'mine');
  writeFileAtomic(join(dir, 'b.txt'), 'new', { replace: false });
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'new');
  assert.deepEqual(readdirSync(dir).sort(), ['a.txt', 'b.txt'], 'no temp file left');
});

test('makeFolder creates missing parents and reports a folder the file system refuses, at once', () => {
  const dir = mkdtempSync(join(root, 'case-'));
  makeFolder(join(dir, 'a', 'b', 'c'));
  checkWritable(join(dir, 'a', 'b', 'c'));
  assert.deepEqual(readdirSync(join(dir, 'a', 'b', 'c')), [], 'the probe leaves nothing behind');
  // mkdir answers ENOENT under /proc although /proc exists; `mkdir -p` retried that forever.
  assert.throws(() => makeFolder('/proc/rtsr-no/sub'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.path === '/proc/rtsr-no');
  assert.throws(() => checkWritable('/proc'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('fsCause: the cause in words with its code (a read-only file system is not reported as ENOENT)', () => {
  const err = (code: string) => Object.assign(new Error(`${code}: something, mkdir '/x'`), { code });
  assert.equal(fsCause(err('EROFS')), 'read-only file system (EROFS)');
  assert.equal(fsCause(err('EACCES')), 'permission denied (EACCES)');
  assert.equal(fsCause(err('ENOSPC')), 'no space left on device (ENOSPC)');
  assert.equal(fsCause(err('EXDEV')), 'EXDEV');
  assert.equal(fsCause(new Error('no code')), 'no code');
});
