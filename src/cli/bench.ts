// `rtsr bench train`: training-step speed of our engine against PyTorch in the same run.
// `rtsr bench --model|--arch … --input WxH`: inference speed of the compiled model, optionally against
// onnxruntime (src/bench/infer-bench.ts). With `--video FILE` instead of --input: its frame size, and whether the
// model keeps up with its frame rate.
import { selectBackend } from '../backends/index.js';
import { ompThreads } from '../backends/native/index.js';
import { type CompareOptions, timeModels } from '../bench/compare.js';
import { aroundCeiling, CEILING_SECONDS, ceilingFields, ceilingLine, measureCeiling } from '../bench/ceiling.js';
import { benchInfer, ceilingSkip } from '../bench/infer-bench.js';
import { ORT_RUNTIMES } from '../export/ort.js';
import { getTarget } from '../targets/registry.js';
import { benchTrain } from '../bench/train-bench.js';
import { BENCH_NETS, type BenchNet } from '../bench/train-nets.js';
import { useBackend } from '../engine/tensor.js';
import { Model } from '../models/model.js';
import { parseArchArg } from './arch-arg.js';
import { findModel } from '../models/zoo.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { OPTIONS, type Options } from './options.js';
import { resolveTarget } from './target-option.js';
import { probeVideo, type VideoInfo } from '../video/probe.js';

const trainOptions = {
  net: { kind: 'choice', choices: Object.keys(BENCH_NETS) as BenchNet['name'][], default: 'conv5x32', help: 'the network trained' },
  backend: OPTIONS.backend,
  steps: { kind: 'int', value: 'N', min: 1, default: '20', help: 'timed training steps' },
  warmup: { ...OPTIONS.warmup, default: '3' },
  'no-torch': { kind: 'flag', help: "skip PyTorch's run (bench/torch_train.py)" },
  rounds: { kind: 'int', value: 'N', min: 1, default: '1', help: 'rounds of ours then PyTorch, each printed, then the medians: the machine drifts between minutes' },
  json: OPTIONS.json,
} as const satisfies Options;

const train = defineCommand({
  summary: "training-step speed of rtsr's engine, and PyTorch's for the same net in the same run",
  usage: ['[options]'],
  options: trainOptions,
  examples: ['rtsr bench train --net wdsr-b --rounds 5', 'rtsr bench train --net wdsr-b --json'],
  run: runTrain,
});

const ceilingOptions = {
  threads: { ...OPTIONS.threads, help: 'threads the FMA loops run on; default: every core' },
  seconds: { kind: 'number', value: 'S', unit: 'seconds', default: String(CEILING_SECONDS), help: 'how long the loops run' },
  json: OPTIONS.json,
} as const satisfies Options;

const ceiling = defineCommand({
  summary: "this machine's FP32 FMA ceiling (independent FMA chains through the native toolchain), at each vector width",
  usage: ['[options]'],
  options: ceilingOptions,
  examples: ['rtsr bench ceiling --threads 1 --json'],
  run: runCeiling,
});

const options = {
  model: { ...OPTIONS.model, multiple: true },
  arch: { ...OPTIONS.arch, multiple: true, help: 'an untrained architecture (random weights), to size one before training it: a preset, its JSON or a JSON file' },
  scale: { ...OPTIONS.scale, help: 'the upscaling factor of --arch; a model file has its own' },
  seed: { ...OPTIONS.seed, help: "the seed of --arch's random weights" },
  input: { ...OPTIONS.input, help: 'the input frame size' },
  video: { kind: 'text', value: 'FILE', help: "time on FILE's frame size instead of --input, and say whether the model is real-time at its frame rate (needs ffprobe)" },
  compare: { kind: 'choice', choices: ORT_RUNTIMES, help: "time onnxruntime's run of the same weights in the same rounds (one model)" },
  'budget-ms': { ...OPTIONS['budget-ms'], help: "several models: mark those within it (default with --video: one frame's time)" },
  target: OPTIONS.target,
  precision: OPTIONS.precision,
  threads: OPTIONS.threads,
  warmup: { ...OPTIONS.warmup, default: '3' },
  repeats: { ...OPTIONS.repeats, default: '15' },
  json: OPTIONS.json,
} as const satisfies Options;

export const command = defineCommand({
  summary: 'inference speed of compiled models (beside onnxruntime or each other); bench train; bench ceiling',
  usage: [
    '--model NAME|FILE --input WxH|--video FILE [--compare RUNTIME] [options]',
    '--arch SPEC --input WxH|--video FILE [--compare RUNTIME] [options]',
    '--model A --model B … [--arch SPEC …] --input WxH|--video FILE [--budget-ms MS] [options]',
  ],
  options,
  notes: 'Several models (or untrained architectures) are timed side by side, in interleaved rounds, with their stored metrics.',
  examples: ['rtsr bench --model wdsr-b-x2 --input 640x360 --compare onnxruntime', 'rtsr bench --model wdsr-b-x2 --model espcn-x2 --input 640x360 --budget-ms 33', 'rtsr bench --model wdsr-b-x2 --video clip.mp4'],
  subcommands: { train, ceiling },
  run,
});

async function runTrain({ values }: Args<typeof trainOptions>): Promise<void> {
  useBackend(await selectBackend(values.backend, { tune: true }));
  const threads = ompThreads();
  const { result: r, ceiling } = await benchTrain(values.net, { steps: values.steps, warmup: values.warmup, threads, torch: !values['no-torch'], rounds: values.rounds });
  if (values.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const torch = r.torch_ms_per_step === null ? `PyTorch: ${r.torch_note}` : `PyTorch ${r.torch_version} ${r.torch_ms_per_step.toFixed(1)} ms/step → ratio ours/PyTorch ${r.ratio!.toFixed(2)}`;
  const rounds = (r.rounds ?? []).map((x, i) => {
    const theirs = x.torch_ms_per_step === null ? '' : `, PyTorch ${x.torch_ms_per_step.toFixed(1)} ms → ${x.ratio!.toFixed(2)}`;
    const share = x.share_of_ceiling === null ? '' : `; ${(100 * x.share_of_ceiling).toFixed(1)} % of ${x.ceiling_gflops!.toFixed(1)} GFLOP/s`;
    return `round ${i + 1}: ours ${x.ms_per_step.toFixed(1)} ms${theirs}${share}\n`;
  });
  const median = rounds.length ? `median of ${rounds.length} rounds, ` : '';
  process.stdout.write(`${rounds.join('')}${median}${r.net} (batch 16 × 48×48, ${r.backend}, ${threads} thread${threads > 1 ? 's' : ''}): ${r.ms_per_step.toFixed(1)} ms/step, ${r.gflops.toFixed(1)} GFLOP/s; ${torch}\n${ceilingLine(ceiling, r.gflops)}\nmachine: ${r.machine}\n`);
}

/** `rtsr bench ceiling`: the FP32 FMA ceiling alone, at each vector width the compiler targets. */
async function runCeiling({ values }: Args<typeof ceilingOptions>): Promise<void> {
  const threads = values.threads ?? ompThreads();
  const c = measureCeiling(threads, values.seconds);
  if (values.json) return void process.stdout.write(JSON.stringify({ threads, ceiling_gflops: c.gflops, lanes: c.lanes, widths: c.widths, note: c.note }) + '\n');
  const widths = c.widths.length > 1 ? ` (by vector width: ${c.widths.map((x) => `${x.lanes} floats ${x.gflops.toFixed(1)}`).join(', ')})` : '';
  process.stdout.write(`${ceilingLine(c)}${widths}\n`);
}

async function run({ values, given, usage }: Args<typeof options>): Promise<void> {
  const names = [...values.model, ...values.arch];
  if (names.length === 0 || (values.input === undefined && values.video === undefined)) throw new CliError(usage);
  if (values.input !== undefined && values.video !== undefined) throw new CliError('--input or --video, not both: a video sets the frame size');
  const precision = values.precision;
  const target = await resolveTarget(values.target, precision);
  if (values.arch.length === 0 && (given.has('scale') || given.has('seed'))) throw new CliError('--scale and --seed only go with --arch');
  const video = values.video === undefined ? null : { path: values.video, ...(await probeVideo(values.video)) };
  const { w, h } = video ? { w: video.width, h: video.height } : values.input!;
  const timing: CompareOptions = { target, precision, threads: values.threads ?? target.defaultThreads(), warmup: values.warmup, repeats: values.repeats };
  let entries: Entry[];
  try {
    entries = [
      ...values.model.map((m) => {
        const f = findModel(m);
        return { model: f.model, metrics: f.info.metrics ?? {} };
      }),
      ...values.arch.map((a) => ({ model: Model.init(parseArchArg(a, values.scale), values.seed), metrics: {} })),
    ];
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const compare = values.compare ?? null;
  if (entries.length > 1 || values['budget-ms'] !== undefined) {
    const budget = values['budget-ms'] ?? (video ? 1000 / video.fps : null);
    return runModels(names, entries, budget, video, compare !== null, w, h, timing, values.json);
  }
  const [name] = names;
  const { model } = entries[0];
  // Beside another compiled target (wasm), the native one in the same rounds: their ratio is what portability
  // costs here.
  const native = await getTarget('native');
  const alongside = target !== native && target.benchStages && !(await native.unavailable()) ? native : null;
  const { result: r, ceiling } = await benchInfer(name, model, w, h, { ...timing, compare, alongside });
  // Appended, so that the fields without --video stay as they were.
  const realTime = video && { video: video.path, video_fps: video.fps, frame_budget_ms: 1000 / video.fps, real_time: r.ms <= 1000 / video.fps };
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...r, ...realTime }) + '\n');
    return;
  }
  const s = model.scale;
  const threads = timing.threads;
  const lines = [`${name} ×${s}, ${r.input} → ${w * s}x${h * s}, ${target.name}${precision === 'f16' ? ' f16' : ''} (${threads} thread${threads > 1 ? 's' : ''}): ${r.ms.toFixed(1)} ms/frame, ${r.gflops.toFixed(1)} GFLOP/s`, ceilingLine(ceiling, r.gflops)];
  const t = `${threads} thread${threads > 1 ? 's' : ''}`;
  if (r.onnxruntime_ms !== null)
    lines.push(`${r.onnxruntime} (${t}): ${r.onnxruntime_ms.toFixed(1)} ms/frame → speedup ${r.speedup!.toFixed(2)}×, max |ours − ${r.onnxruntime}| ${r.max_abs_diff!.toExponential(1)}`);
  if (r.alongside_ms !== null) lines.push(`${r.alongside} (${t}), same rounds: ${r.alongside_ms.toFixed(1)} ms/frame → ${target.name} takes ${r.ratio_to_alongside!.toFixed(2)}× its time`);
  if (realTime) lines.push(`real-time at ${fpsText(video!)} fps: ${realTime.real_time ? 'yes' : 'no'} (${r.ms.toFixed(1)} ms/frame of ${realTime.frame_budget_ms.toFixed(1)})`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** 29.97, 10: the rate as people write it. */
const fpsText = (v: VideoInfo) => String(+v.fps.toFixed(2));

/** A model to time: a trained one with its stored metrics, or an untrained architecture (none). */
interface Entry {
  readonly model: Model;
  readonly metrics: NonNullable<ReturnType<typeof findModel>['info']['metrics']>;
}

/** Several models timed side by side (src/bench/compare.ts), listed with their stored metrics. */
async function runModels(names: string[], entries: Entry[], budget: number | null, video: (VideoInfo & { path: string }) | null, compare: boolean, w: number, h: number, timing: CompareOptions, json: boolean): Promise<void> {
  if (compare) throw new CliError('--compare onnxruntime times one model; give a single --model or --arch');
  const { value: ms, ceiling } = await aroundCeiling(timing.threads, () => timeModels(entries.map((e) => e.model), w, h, timing), ceilingSkip(timing.target));
  const rows = entries.map((e, i) => {
    const gflops = (2 * e.model.macs(h, w)) / (ms[i] * 1e6);
    return { model: names[i], arch: e.model.spec, ms: ms[i], gflops, meets_budget: budget === null ? null : ms[i] <= budget, metrics: e.metrics, ...ceilingFields(ceiling, gflops) };
  });
  if (json) return void process.stdout.write(JSON.stringify(rows) + '\n');
  const sets = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const { target, threads, repeats } = timing;
  const lines = [
    `${video ? `${w}x${h} frames of ${video.path} at ${fpsText(video)} fps` : `${w}x${h} input`}, ${target.name} (${threads} thread${threads > 1 ? 's' : ''}), median of ${repeats} interleaved rounds${budget === null ? '' : `, budget ${+budget.toPrecision(4)} ms`}`,
    `| model | ms | GFLOP/s | of ceiling |${budget === null ? '' : ' meets budget |'}${sets.map((s) => ` ${s} |`).join('')}`,
    `| --- | ---: | ---: | ---: |${budget === null ? '' : ' --- |'}${sets.map(() => ' ---: |').join('')}`,
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.ms.toFixed(1)} | ${r.gflops.toFixed(0)} | ${r.share_of_ceiling === null ? '—' : `${(100 * r.share_of_ceiling).toFixed(0)} %`} |${r.meets_budget === null ? '' : r.meets_budget ? ' yes |' : ' no |'}` +
        sets.map((s) => ` ${r.metrics[s] ? r.metrics[s].psnr.toFixed(2) : '—'} |`).join(''),
    ),
    ceilingLine(ceiling),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
