// `rtsr bench train`: training-step speed of our engine against PyTorch in the same run.
import { availableParallelism } from 'node:os';
import { selectBackend } from '../backends/index.js';
import { benchTrain } from '../bench/train-bench.js';
import { BENCH_NETS, type BenchNet } from '../bench/train-nets.js';
import { useBackend } from '../engine/tensor.js';
import { CliError, intOption, parseCli } from './args.js';

const USAGE = 'usage: rtsr bench train [--net conv5x32|wdsr-b] [--backend native|reference] [--steps N] [--warmup N] [--no-torch] [--json]';

export async function run(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  if (what !== 'train') throw new CliError(`bench: expected 'train'\n${USAGE}`);
  const { values } = parseCli(rest, {
    net: { type: 'string', default: 'conv5x32' },
    backend: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    'no-torch': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const net = values.net as string;
  if (!(net in BENCH_NETS)) throw new CliError(`bench train: unknown --net '${net}' (known: ${Object.keys(BENCH_NETS).join(', ')})`);
  useBackend(await selectBackend(values.backend as string | undefined));
  const threads = Number(process.env.OMP_NUM_THREADS) || availableParallelism();
  const r = benchTrain(net as BenchNet['name'], {
    steps: intOption('steps', values.steps as string | undefined, 20),
    warmup: intOption('warmup', values.warmup as string | undefined, 3, 0),
    threads,
    torch: !values['no-torch'],
  });
  if (values.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const torch = r.torch_ms_per_step === null ? `PyTorch: ${r.torch_note}` : `PyTorch ${r.torch_ms_per_step.toFixed(1)} ms/step → ratio ours/PyTorch ${r.ratio!.toFixed(2)}`;
  process.stdout.write(`${r.net} (batch 16 × 48×48, ${r.backend}, ${threads} threads): ${r.ms_per_step.toFixed(1)} ms/step, ${r.gflops.toFixed(1)} GFLOP/s; ${torch}\n`);
}
