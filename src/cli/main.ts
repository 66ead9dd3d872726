#!/usr/bin/env node
// `rtsr <command> …`: each command lives in its own module, loaded only when asked for, so a slow import
// (sharp, the native compiler) never delays another command.
import { InputError } from '../util/errors.js';
import { CliError } from './args.js';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<void> }>;
}

const COMMANDS: Record<string, Command> = {
  bench: { summary: 'bench train [--net conv5x32|wdsr-b] [--json] | bench ceiling [--threads N] [--json] | bench --model NAME|--arch SPEC --input WxH|--video FILE [--target T] [--compare onnxruntime|onnxruntime-web] [--json] | bench --model A --model B … --input WxH [--budget-ms MS]: training / inference speed', load: () => import('./bench.js') },
  train: { summary: 'train --arch PRESET|JSON|FILE [--scale 2] [--steps N] [--out DIR] [--resume] …: train a model', load: () => import('./train.js') },
  info: { summary: 'info PRESET|JSON|MODEL_FILE [--scale 2] [--input WxH] [--json]: parameters and MACs', load: () => import('./info.js') },
  zoo: { summary: 'zoo [--json]: trained models with parameters, MACs at 720p and measured PSNR/SSIM', load: () => import('./zoo.js') },
  eval: { summary: 'eval --model bicubic|NAME|FILE [--scale 2|3|4] [--sets …] [--data DIR] [--json]: PSNR/SSIM tables', load: () => import('./eval.js') },
  compile: { summary: 'compile MODEL --target wasm --out DIR: a self-contained folder that a page or a Node program imports to run the model', load: () => import('./compile.js') },
  export: { summary: 'export MODEL|--arch SPEC --onnx OUT.onnx: ONNX for onnxruntime and other runtimes', load: () => import('./export.js') },
  upscale: { summary: 'upscale IN OUT --model NAME|FILE [--target native|wasm|reference] [--overwrite]: super-resolve an image, folder or glob to PNG, or a video (ffmpeg) to a video', load: () => import('./upscale.js') },
  profile: { summary: 'profile [--target native|wasm] [--scale 2] [--input 640x360] [--samples N] [--out FILE]: measure block latencies (resumable)', load: () => import('./profile.js') },
  serve: { summary: 'serve [--port 8080] [--host 127.0.0.1] [--models DIR]: the demo and device-profiling pages, for this browser or a phone', load: () => import('./serve.js') },
  search: { summary: 'search --scale 2 --budget-ms 33 [--input 640x360] [--device-profile FILE] [--data DIR] [--out DIR] [--quick]: the best network for a latency budget', load: () => import('./search.js') },
  'speed-model': { summary: 'speed-model fit|eval|predict …: fit the latency predictor, check it on held-out blocks, predict a model', load: () => import('./speed-model.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  rtsr ${c.summary.startsWith(name) ? '' : name + ' '}${c.summary}`);
  return `usage: rtsr <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return;
  }
  const cmd = COMMANDS[name];
  if (!cmd) throw new CliError(`unknown command '${name}'\n\n${usage()}`);
  await (await cmd.load()).run(rest);
}

// Exit 2: the arguments or the input files are at fault; exit 1: anything else failed while running.
main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError || err instanceof InputError) {
    process.stderr.write(`rtsr: ${err.message}\n`);
    process.exit(2);
  }
  // Errors already name the file, op or shapes at fault; the stack is for rtsr's developers.
  const debug = process.env.RTSR_DEBUG && err instanceof Error;
  process.stderr.write(`rtsr: ${debug ? err.stack : err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
