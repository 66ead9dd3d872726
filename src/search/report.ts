// A search's report.md, and the lines that say plainly what the budget bought on this machine: the searched network
// and, timed in the same rounds here, the zoo's models and the baselines.
import { describeSteadiness } from '../latency/busy.js';
import type { WdsrSpec } from '../models/wdsr.js';
import type { SearchReport } from './run.js';

const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`);

/** "C 8, 4 blocks {M1 88–94, M2 8–9}", or "C 16, no blocks". */
export function describeArch(a: WdsrSpec): string {
  if (a.blocks.length === 0) return `C ${a.channels}, no blocks`;
  const n = a.blocks.length;
  return `C ${a.channels}, ${n} block${n > 1 ? 's' : ''} {M1 ${range(a.blocks.map((b) => b.m1))}, M2 ${range(a.blocks.map((b) => b.m2))}}`;
}

const SOURCE: Record<SearchReport['speed_model_source'], string> = {
  'this machine': 'shipped, measured on this kind of machine',
  nearest: 'shipped, measured on another machine or input size; --quick rescaled it to this one by the calibration',
  profiled: 'profiled on this machine',
  'device profile': "fitted on another device's profile",
};

/** What the budget bought here and what the zoo's models take here, as a few plain sentences. */
export function budgetLines(r: SearchReport): string[] {
  const set = Object.keys(r.metrics)[0];
  const m = r.machine;
  const fits = (ms: number) => (ms <= r.budget_ms ? 'fits' : 'over');
  const lines = [
    `This machine: ${m.cpu}, ${m.cores} cores, the ${m.target} target on ${m.threads} threads; speed model ${r.speed_model} (${SOURCE[r.speed_model_source]}; measured ≈ ${r.calibration.scale.toFixed(2)} × predicted here).`,
    r.architecture.blocks.length === 0 && r.no_block_fits_ms !== undefined
      ? `The ${r.budget_ms} ms budget admits no block here: the narrowest one-block network is predicted at ${r.no_block_fits_ms.toFixed(1)} ms, over the ${r.derived_target_ms.toFixed(1)} ms target${r.derived_target_ms < r.calibration.target_ms ? ` (lowered from ${r.calibration.target_ms.toFixed(1)}: with a block it measured over the budget here)` : ''}. It bought ${describeArch(r.architecture)}: ${r.measured_ms.toFixed(1)} ms measured, ${set} ${r.metrics[set].psnr.toFixed(2)} dB.`
      : `The ${r.budget_ms} ms budget bought ${describeArch(r.architecture)}: ${r.measured_ms.toFixed(1)} ms measured here (${fits(r.measured_ms)}), ${set} ${r.metrics[set].psnr.toFixed(2)} dB.`,
  ];
  if (r.compared.length) {
    const zoo = [...r.compared].sort((a, b) => a.measured_ms - b.measured_ms).map((c) => `${c.model} ${c.measured_ms.toFixed(1)} ms (${fits(c.measured_ms)}${c.metrics[set] ? `, ${c.metrics[set].psnr.toFixed(2)} dB` : ''})`);
    lines.push(`In the same rounds here: ${zoo.join(', ')}.`);
    // The one to use, when a model timed beside the searched one fits and scores higher.
    const best = r.compared.filter((c) => c.measured_ms <= r.budget_ms && c.metrics[set]).sort((a, b) => b.metrics[set].psnr - a.metrics[set].psnr)[0];
    if (best && best.metrics[set].psnr > r.metrics[set].psnr)
      lines.push(
        `Within the budget here, ${best.model} scores highest (${best.metrics[set].psnr.toFixed(2)} dB on ${set}, ${best.measured_ms.toFixed(1)} ms)` +
          (r.quick ? ': --quick trains for minutes to show the pipeline; use that model, or run the full search (docs/search.md).' : '.'),
      );
  }
  const busy = [
    r.calibration.machine?.busy && `while the references were timed (${describeSteadiness(r.calibration.machine)})`,
    r.measured_machine.busy && `while these were measured (${describeSteadiness(r.measured_machine)})`,
  ].filter(Boolean);
  if (busy.length) lines.push(`The machine was busy ${busy.join(' and ')}: on a quiet one every time here is lower.`);
  return lines;
}

export function reportMarkdown(r: SearchReport): string {
  const sets = Object.keys(r.metrics);
  const rows = Object.entries(r.metrics).map(([s, m]) => `| ${s} | ${m.psnr.toFixed(2)} | ${m.ssim.toFixed(4)} |`);
  const refs = r.calibration.references.map((x) => `\`${JSON.stringify(x.spec)}\` predicted ${x.predicted_ms.toFixed(1)} ms, measured ${x.measured_ms.toFixed(1)}`);
  return [
    `# Search result (×${r.architecture.scale}, ${r.input}, budget ${r.budget_ms} ms)`,
    '',
    ...budgetLines(r),
    '',
    `- architecture: \`${JSON.stringify(r.architecture)}\``,
    `- predicted ${r.predicted_ms.toFixed(1)} ms (supernet ${r.supernet_predicted_ms.toFixed(1)} ms; ${r.trimmed_channels} channels trimmed to meet the target, ${r.filled_blocks} skipped blocks and ${r.filled_channels} channels turned on where it left room${r.kept_one_block ? '; the joint stage kept no block, so the one closest to kept came back, trimmed to fit' : ''}), measured ${r.measured_ms.toFixed(1)} ms on ${r.measured_on}`,
    `- target ${r.calibration.target_ms.toFixed(1)} ms predicted = budget / ${r.calibration.scale.toFixed(3)}, the fit of measured to predicted over the references timed before the search: ${refs.join('; ')}`,
    ...(r.derived_target_ms < r.calibration.target_ms ? [`- derived at ${r.derived_target_ms.toFixed(1)} ms predicted: at the calibrated target the network measured over the budget here before fine-tuning`] : []),
    `- latency gradient to the widths: ${r.width_gradient ? 'yes (rtsr)' : "no (the seed's release)"}; what a channel is worth: ${r.gate_worth === 'taylor' ? 'Taylor (rtsr)' : "straight-through (the seed's)"}`,
    `- fine-tune recipe: ${r.finetune_recipe}${r.teacher ? `, distilled from ${r.teacher}` : ''}`,
    `- search time: ${(r.search_seconds / 60).toFixed(1)} min`,
    '',
    '| set | PSNR (dB) | SSIM |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
    `Measured in the same rounds on ${r.measured_on} (PSNR on ${sets.join(' / ')}, as stored in each model file):`,
    '',
    '| model | ms | within budget | PSNR |',
    '| --- | ---: | --- | --- |',
    `| **searched** | ${r.measured_ms.toFixed(1)} | ${r.measured_ms <= r.budget_ms ? 'yes' : 'no'} | ${sets.map((s) => r.metrics[s].psnr.toFixed(2)).join(' / ')} |`,
    ...r.compared.map((c) => `| ${c.model} | ${c.measured_ms.toFixed(1)} | ${c.measured_ms <= r.budget_ms ? 'yes' : 'no'} | ${sets.map((s) => c.metrics[s]?.psnr.toFixed(2) ?? '—').join(' / ')} |`),
    '',
  ].join('\n');
}
