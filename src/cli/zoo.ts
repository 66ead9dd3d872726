// `rtsr zoo`: the committed trained models with their size and measured quality.
import { listZoo, ZOO_DIR } from '../models/zoo.js';
import { type Args, defineCommand } from './command.js';
import { OPTIONS, type Options } from './options.js';

const options = { json: { ...OPTIONS.json, help: 'print the list as JSON' } } as const satisfies Options;

export const command = defineCommand({
  summary: 'the trained models in zoo/ with their size and measured PSNR/SSIM',
  usage: ['[--json]'],
  options,
  examples: ['rtsr zoo'],
  run,
});

async function run({ values }: Args<typeof options>): Promise<void> {
  const zoo = listZoo();
  if (values.json) {
    process.stdout.write(JSON.stringify(zoo) + '\n');
    return;
  }
  if (zoo.length === 0) {
    process.stdout.write(`the zoo is empty (no .rtsr files in ${ZOO_DIR}); scripts/train-zoo.sh trains it\n`);
    return;
  }
  const sets = [...new Set(zoo.flatMap((z) => Object.keys(z.metrics)))];
  const rows = zoo.map((z) => [z.name, `×${z.scale}`, `${(z.params / 1e3).toFixed(1)} K`, `${(z.macs_720p / 1e9).toFixed(2)} G`, ...sets.map((s) => (z.metrics[s] ? `${z.metrics[s].psnr.toFixed(2)}/${z.metrics[s].ssim.toFixed(4)}` : '—'))]);
  const head = ['model', 'scale', 'params', 'MACs@720p', ...sets.map((s) => `${s} PSNR/SSIM`)];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  process.stdout.write([line(head), ...rows.map(line)].join('\n') + '\n');
}
