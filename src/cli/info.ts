// `rtsr info`: the size of an architecture or model file: its spec, parameters, and MACs for an input size.
import { existsSync } from 'node:fs';
import { Model } from '../models/model.js';
import { loadModel } from '../models/model-io.js';
import { parseArchArg } from './arch-arg.js';
import { CliError, intOption, parseCli } from './args.js';

/** Parses "WxH" (e.g. 640x360). */
/** The largest input side: 8K video fits; beyond it the arrays of even a small network outgrow memory. */
export const MAX_SIDE = 8192;

export function parseSize(text: string, flag: string): { w: number; h: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m || Number(m[1]) === 0 || Number(m[2]) === 0) throw new CliError(`--${flag} must be WIDTHxHEIGHT (e.g. 640x360), got '${text}'`);
  const [w, h] = [Number(m[1]), Number(m[2])];
  if (w > MAX_SIDE || h > MAX_SIDE) throw new CliError(`--${flag} ${text}: at most ${MAX_SIDE} pixels a side`);
  return { w, h };
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseCli(
    argv,
    { scale: { type: 'string', default: '2' }, input: { type: 'string' }, json: { type: 'boolean', default: false } },
    true,
  );
  const what = positionals[0];
  if (!what || positionals.length > 1) throw new CliError('usage: rtsr info PRESET|JSON|MODEL_FILE [--scale 2] [--input WxH] [--json]');
  let model: Model;
  if (existsSync(what) && !what.endsWith('.json')) model = loadModel(what).model;
  else {
    try {
      model = Model.init(parseArchArg(what, intOption('scale', values.scale as string, 2)), 0);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const s = model.scale;
  // By default the LR size whose output is 1280×720 ("720p" in SR papers means the output).
  const input = values.input ? parseSize(values.input as string, 'input') : { w: Math.round(1280 / s), h: Math.round(720 / s) };
  const info = { spec: model.spec, params: model.paramCount, input: `${input.w}x${input.h}`, output: `${input.w * s}x${input.h * s}`, macs: model.macs(input.h, input.w) };
  if (values.json) process.stdout.write(JSON.stringify(info) + '\n');
  else
    process.stdout.write(
      `${JSON.stringify(model.spec)}\nparameters: ${(info.params / 1e3).toFixed(1)} K\nMACs for ${info.input} → ${info.output}: ${(info.macs / 1e9).toFixed(2)} G\n` +
        (model.spec.reparam ? `training branches: ${(trainingParams(model) / 1e3).toFixed(1)} K parameters while training; the figures above are the deployed network's, into which they fold\n` : ''),
    );
}

const trainingParams = (m: Model) => [...m.params.values()].reduce((n, t) => n + t.size, 0);
