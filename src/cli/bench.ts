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
import { CliError, intOption, msOption, parseCli } from './args.js';
import { parseSize } from './info.js';
import { resolveTarget, TARGET_NAMES_HELP, TARGET_OPTION } from './target-option.js';
import { probeVideo, type VideoInfo } from '../video/probe.js';

const USAGE = 'usage: rtsr bench train [--net conv5x32|wdsr-b] [--backend native|reference] [--steps N] [--warmup N] [--no-torch] [--json]';
const CEILING_USAGE = 'usage: rtsr bench ceiling [--threads N] [--seconds S] [--json]';
const INFER_USAGE = `usage: rtsr bench --model NAME|FILE | --arch SPEC [--scale 2] [--seed 0]  --input WxH | --video FILE
                  [--compare onnxruntime|onnxruntime-web|onnxruntime-webgpu] [--target ${TARGET_NAMES_HELP}] [--threads N] [--warmup N] [--repeats N] [--json]
       rtsr bench --model NAME|FILE … --arch SPEC … --input WxH | --video FILE [--budget-ms MS] [--target …] [--threads N] [--json]
                  (several models or untrained architectures timed side by side, with their stored metrics)
  --video FILE  time the model on FILE's frame size and say whether it is real-time at FILE's frame rate
                (several models: the budget is one frame's time unless --budget-ms is given); needs ffprobe`;

export async function run(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  if (what === 'ceiling') return runCeiling(rest);
  if (what !== 'train') return runInfer(argv);
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
  const threads = ompThreads();
  const { result: r, ceiling } = await benchTrain(net as BenchNet['name'], {
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
  process.stdout.write(`${r.net} (batch 16 × 48×48, ${r.backend}, ${threads} threads): ${r.ms_per_step.toFixed(1)} ms/step, ${r.gflops.toFixed(1)} GFLOP/s; ${torch}\n${ceilingLine(ceiling, r.gflops)}\n`);
}

/** `rtsr bench ceiling`: the FP32 FMA ceiling alone, at each vector width the compiler targets. */
function runCeiling(argv: string[]): void {
  const { values } = parseCli(argv, { threads: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'boolean', default: false } });
  const threads = intOption('threads', values.threads, ompThreads());
  const seconds = values.seconds === undefined ? CEILING_SECONDS : Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new CliError(`--seconds: a number of seconds in (0, 600], got '${values.seconds}'\n${CEILING_USAGE}`);
  const c = measureCeiling(threads, seconds);
  if (values.json) return void process.stdout.write(JSON.stringify({ threads, ceiling_gflops: c.gflops, lanes: c.lanes, widths: c.widths, note: c.note }) + '\n');
  const widths = c.widths.length > 1 ? ` (by vector width: ${c.widths.map((x) => `${x.lanes} floats ${x.gflops.toFixed(1)}`).join(', ')})` : '';
  process.stdout.write(`${ceilingLine(c)}${widths}\n`);
}

async function runInfer(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
    model: { type: 'string', multiple: true },
    arch: { type: 'string', multiple: true },
    'budget-ms': { type: 'string' },
    scale: { type: 'string' },
    seed: { type: 'string' },
    input: { type: 'string' },
    video: { type: 'string' },
    compare: { type: 'string' },
    ...TARGET_OPTION,
    threads: { type: 'string' },
    warmup: { type: 'string' },
    repeats: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const names = [...(values.model ?? []), ...(values.arch ?? [])];
  if (names.length === 0 || (values.input === undefined && values.video === undefined)) throw new CliError(`${INFER_USAGE}\n${USAGE}\n${CEILING_USAGE}`);
  if (values.input !== undefined && values.video !== undefined) throw new CliError('--input or --video, not both: a video sets the frame size');
  const target = await resolveTarget(values.target);
  if (values.arch === undefined && (values.scale !== undefined || values.seed !== undefined)) throw new CliError('--scale and --seed only go with --arch');
  const video = values.video === undefined ? null : { path: values.video, ...(await probeVideo(values.video)) };
  const { w, h } = video ? { w: video.width, h: video.height } : parseSize(values.input!, 'input');
  const timing: CompareOptions = {
    target,
    threads: intOption('threads', values.threads, target.defaultThreads()),
    warmup: intOption('warmup', values.warmup, 3, 0),
    repeats: intOption('repeats', values.repeats, 15),
  };
  let entries: Entry[];
  try {
    const scale = intOption('scale', values.scale, 2);
    const seed = intOption('seed', values.seed, 0, 0);
    entries = [
      ...(values.model ?? []).map((m) => {
        const f = findModel(m);
        return { model: f.model, metrics: f.info.metrics ?? {} };
      }),
      ...(values.arch ?? []).map((a) => ({ model: Model.init(parseArchArg(a, scale), seed), metrics: {} })),
    ];
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  }
  if (entries.length > 1 || values['budget-ms'] !== undefined) {
    const budget = values['budget-ms'] !== undefined ? msOption('budget-ms', values['budget-ms']) : video ? 1000 / video.fps : null;
    return runModels(names, entries, budget, video, values.compare !== undefined, w, h, timing, values.json);
  }
  const compare = values.compare === undefined ? null : ORT_RUNTIMES.find((o) => o === values.compare);
  if (compare === undefined) throw new CliError(`--compare: one of ${ORT_RUNTIMES.join(', ')}, got '${values.compare}'`);
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
  const lines = [`${name} ×${s}, ${r.input} → ${w * s}x${h * s}, ${target.name} (${threads} thread${threads > 1 ? 's' : ''}): ${r.ms.toFixed(1)} ms/frame, ${r.gflops.toFixed(1)} GFLOP/s`, ceilingLine(ceiling, r.gflops)];
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
