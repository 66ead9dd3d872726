// `rtsr search --quick`, the README's main job, end to end on the bundled data: the stages, the derived and
// fine-tuned network, its Set5 score, its timing beside the zoo, and the output folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findModel, zooNames } from '../src/models/zoo.js';

test('rtsr search --quick writes a model predicted within its calibrated budget, better than bicubic, with its report and plot', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rtsr-quick-'));
  try {
    const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [main, 'search', '--quick', '--budget-ms', '33', '--out', out], { maxBuffer: 1 << 26 });
    assert.match(stdout, /report: .*report\.md/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.architecture.arch, 'wdsr-b');
    // The budget became a predicted-ms target through a reference timed on this machine (calibrate.ts).
    const cal = report.calibration;
    assert.ok(cal.measured_ms > 0 && Math.abs(cal.target_ms - (33 * cal.predicted_ms) / cal.measured_ms) < 1e-6, JSON.stringify(cal));
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'calibration.json'), 'utf8')), cal);
    assert.ok(report.predicted_ms <= cal.target_ms && report.predicted_ms < report.supernet_predicted_ms, `predicted ${report.predicted_ms} ms for ${cal.target_ms}`);
    assert.ok(Number.isFinite(report.measured_ms) && report.measured_ms > 0);
    // Bicubic scores 33.67 dB on Set5 ×2 (docs/eval.md): even a few hundred steps must beat it.
    assert.ok(report.metrics.Set5.psnr > 34, `Set5 ${report.metrics.Set5.psnr} dB`);
    assert.equal(report.gate_worth, 'straight-through');
    const x2 = zooNames().filter((n) => findModel(n).model.scale === 2);
    assert.deepEqual(report.compared.map((c: { model: string }) => c.model).sort(), x2.sort(), 'timed beside every ×2 zoo model');
    const saved = findModel(join(out, 'model.rtsr'));
    assert.deepEqual(saved.model.spec, report.architecture);
    assert.ok(Math.abs(saved.info.metrics!.Set5.psnr - report.metrics.Set5.psnr) < 1e-9, 'the model file stores the reported metrics');
    for (const f of ['report.md', 'plot.svg']) assert.ok(existsSync(join(out, f)), f);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
