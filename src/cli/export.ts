// `rtsr export`: a trained model (zoo name or file), or a randomly initialised architecture, as an ONNX file.
import { exportOnnx, onnxOpCounts } from '../export/onnx.js';
import { Model } from '../models/model.js';
import { parseArchArg } from './arch-arg.js';
import { findModel } from '../models/zoo.js';
import { writeFileAtomic } from '../util/atomic.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { OPTIONS, type Options } from './options.js';

const options = {
  onnx: { kind: 'text', value: 'OUT.onnx', help: 'the ONNX file to write' },
  arch: { ...OPTIONS.arch, help: 'an untrained architecture (random weights) instead of MODEL: a preset, its JSON or a JSON file' },
  scale: { ...OPTIONS.scale, help: 'the upscaling factor of --arch; a model has its own' },
  seed: { ...OPTIONS.seed, help: "the seed of --arch's random weights" },
} as const satisfies Options;

export const command = defineCommand({
  summary: 'a model as ONNX (opset 13), for onnxruntime and other runtimes',
  usage: ['MODEL --onnx OUT.onnx', '--arch SPEC [--scale 2] [--seed 0] --onnx OUT.onnx'],
  args: [['MODEL', 'a zoo model (see rtsr zoo) or a model file']],
  options,
  examples: ['rtsr export wdsr-b-x2 --onnx wdsr-b-x2.onnx', 'rtsr export --arch wdsr-b-8x16 --scale 3 --onnx untrained.onnx'],
  run,
});

async function run({ values, positionals, given, usage }: Args<typeof options>): Promise<void> {
  const { onnx: out, arch } = values;
  if (!out || positionals.length > 1 || (positionals.length === 1) === (arch !== undefined)) throw new CliError(usage);
  // A model file fixes its own scale and weights; accepting these flags there would silently ignore them.
  if (!arch && (given.has('scale') || given.has('seed'))) throw new CliError(`--scale and --seed only go with --arch\n${usage}`);

  let model: Model;
  let source: string;
  try {
    if (arch) {
      model = Model.init(parseArchArg(arch, values.scale), values.seed);
      source = `${arch} (random weights, seed ${values.seed})`;
    } else {
      const found = findModel(positionals[0]);
      model = found.model;
      source = found.path;
    }
  } catch (err) {
    throw new CliError((err as Error).message);
  }

  const bytes = exportOnnx(model);
  writeFileAtomic(out, bytes);
  const ops = Object.entries(onnxOpCounts(bytes)).map(([op, n]) => `${n} ${op}`);
  process.stdout.write(
    `${out}: ${source} ×${model.scale}, ${ops.join(', ')}, ${(model.paramCount / 1e3).toFixed(1)} K parameters, ${(bytes.length / 1024).toFixed(1)} KiB\n`,
  );
}
