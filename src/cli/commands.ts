// Every `rtsr` command, by name, in the order `rtsr --help` lists them. Each lives in its own module, loaded
// only when asked for, so a slow import (sharp, the native compiler) never delays another command.
import type { AnyCommand } from './command.js';

export const COMMANDS: Readonly<Record<string, () => Promise<{ command: AnyCommand }>>> = {
  search: () => import('./search.js'),
  train: () => import('./train.js'),
  eval: () => import('./eval.js'),
  upscale: () => import('./upscale.js'),
  bench: () => import('./bench.js'),
  compile: () => import('./compile.js'),
  export: () => import('./export.js'),
  info: () => import('./info.js'),
  zoo: () => import('./zoo.js'),
  profile: () => import('./profile.js'),
  'speed-model': () => import('./speed-model.js'),
  serve: () => import('./serve.js'),
};
