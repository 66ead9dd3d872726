// `rtsr export`: a trained model (zoo name or file), or a randomly initialised architecture, as an ONNX file.
import { exportOnnx, onnxOpCounts } from '../export/onnx.js';
import { Model } from '../models/model.js';
import { parseArchArg } from './arch-arg.js';
import { findModel } from '../models/zoo.js';
import { writeFileAtomic } from '../util/atomic.js';
import { CliError, intOption, parseCli } from './args.js';

const USAGE = 'usage: rtsr export MODEL --onnx OUT.onnx | rtsr export --arch SPEC [--scale 2] [--seed 0] --onnx OUT.onnx';

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseCli(
    argv,
    { onnx: { type: 'string' }, arch: { type: 'string' }, scale: { type: 'string' }, seed: { type: 'string' } },
    true,
  );
  const out = values.onnx as string | undefined;
  const arch = values.arch as string | undefined;
  if (!out || positionals.length > 1 || (positionals.length === 1) === (arch !== undefined)) throw new CliError(USAGE);
  // A model file fixes its own scale and weights; accepting these flags there would silently ignore them.
  if (!arch && (values.scale !== undefined || values.seed !== undefined)) throw new CliError(`--scale and --seed only go with --arch\n${USAGE}`);

  let model: Model;
  let source: string;
  try {
    if (arch) {
      const seed = intOption('seed', values.seed as string | undefined, 0, 0);
      model = Model.init(parseArchArg(arch, intOption('scale', values.scale as string | undefined, 2)), seed);
      source = `${arch} (random weights, seed ${seed})`;
    } else {
      const found = findModel(positionals[0]);
      model = found.model;
      source = found.path;
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  }

  const bytes = exportOnnx(model);
  writeFileAtomic(out, bytes);
  const ops = Object.entries(onnxOpCounts(bytes)).map(([op, n]) => `${n} ${op}`);
  process.stdout.write(
    `${out}: ${source} ×${model.scale}, ${ops.join(', ')}, ${(model.paramCount / 1e3).toFixed(1)} K parameters, ${(bytes.length / 1024).toFixed(1)} KiB\n`,
  );
}
