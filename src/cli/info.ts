// `rtsr info`: the size of an architecture or model file: its spec, parameters, and MACs for an input size.
import { existsSync } from 'node:fs';
import { Model } from '../models/model.js';
import { loadModel } from '../models/model-io.js';
import { parseArchArg } from './arch-arg.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { defaultInput, OPTIONS, type Options } from './options.js';

const options = {
  scale: { ...OPTIONS.scale, help: 'the upscaling factor of an architecture; a model file has its own' },
  input: OPTIONS.input,
  json: OPTIONS.json,
} as const satisfies Options;

export const command = defineCommand({
  summary: 'the parameters and MACs of an architecture or a model file',
  usage: ['PRESET|JSON|MODEL_FILE [options]'],
  args: [['PRESET|JSON|MODEL_FILE', 'an architecture (wdsr-b-NxC, espcn, fsrcnn-d2s), its JSON or a JSON file; or a model file']],
  options,
  examples: ['rtsr info wdsr-b-16x24 --scale 4', 'rtsr info zoo/wdsr-b-x2.rtsr --input 640x360 --json'],
  run,
});

async function run({ values, positionals, usage }: Args<typeof options>): Promise<void> {
  const what = positionals[0];
  if (!what || positionals.length > 1) throw new CliError(usage);
  let model: Model;
  if (existsSync(what) && !what.endsWith('.json')) model = loadModel(what).model;
  else {
    try {
      model = Model.init(parseArchArg(what, values.scale), 0);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const s = model.scale;
  const input = values.input ?? defaultInput(s);
  const info = { spec: model.spec, params: model.paramCount, input: `${input.w}x${input.h}`, output: `${input.w * s}x${input.h * s}`, macs: model.macs(input.h, input.w) };
  if (values.json) process.stdout.write(JSON.stringify(info) + '\n');
  else
    process.stdout.write(
      `${JSON.stringify(model.spec)}\nparameters: ${(info.params / 1e3).toFixed(1)} K\nMACs for ${info.input} → ${info.output}: ${(info.macs / 1e9).toFixed(2)} G\n` +
        (model.spec.reparam ? `training branches: ${(trainingParams(model) / 1e3).toFixed(1)} K parameters while training; the figures above are the deployed network's, into which they fold\n` : ''),
    );
}

const trainingParams = (m: Model) => [...m.params.values()].reduce((n, t) => n + t.size, 0);
