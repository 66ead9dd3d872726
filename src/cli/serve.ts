// `rtsr serve`: the demo and profiling pages, the browser bundles, the zoo and a models folder over HTTP, for a
// browser on this machine or (with --host 0.0.0.0) a phone on the same network. Profiles posted by the
// profiling page are written under --profiles.
import { existsSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { createRtsrServer } from '../serve/server.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import type { Options } from './options.js';

const options = {
  port: { kind: 'int', value: 'N', min: 0, max: 65535, default: '8080', help: 'the port; 0 picks a free one' },
  host: { kind: 'text', value: 'ADDRESS', default: '127.0.0.1', help: 'the interface to listen on; 0.0.0.0 opens the pages to your network (a phone on the same Wi-Fi)' },
  models: { kind: 'text', value: 'DIR', help: 'a folder of .rtsr files to offer beside the zoo' },
  profiles: { kind: 'text', value: 'DIR', default: 'profiles/devices', help: "where the profiling page's results are written" },
} as const satisfies Options;

export const command = defineCommand({
  summary: 'the demo and device-profiling pages, for this browser or a phone',
  usage: ['[options]'],
  options,
  examples: ['rtsr serve --host 0.0.0.0 --models runs'],
  run,
});

/** The URLs a browser opens: the host itself, or every IPv4 address of this machine when bound to all. */
function urlsFor(host: string, port: number): string[] {
  const all = host === '0.0.0.0' || host === '::';
  const hosts = all
    ? Object.values(networkInterfaces()).flatMap((ifs) => (ifs ?? []).filter((i) => i.family === 'IPv4').map((i) => i.address))
    : [host.includes(':') ? `[${host}]` : host];
  return hosts.map((h) => `http://${h}:${port}/`);
}

async function run({ values }: Args<typeof options>): Promise<void> {
  const { port, host, profiles } = values;
  const modelsDir = values.models === undefined ? undefined : resolve(values.models);
  if (modelsDir && !(existsSync(modelsDir) && statSync(modelsDir).isDirectory())) throw new CliError(`--models: ${values.models} is not a folder`);
  const log = (line: string) => process.stderr.write(line + '\n');
  const server = createRtsrServer({ modelsDir, profilesDir: resolve(profiles), log });
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(new CliError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, host, done);
  });
  const bound = (server.address() as { port: number }).port;
  const urls = urlsFor(host, bound);
  process.stdout.write(
    `rtsr serve: open ${urls[0]} (demo) or ${urls[0]}profile.html (profile this device)\n` +
      (urls.length > 1 ? `  on your network: ${urls.slice(1).join('  ')}\n` : '') +
      `  profiles go to ${resolve(profiles)}${modelsDir ? `; models from ${modelsDir}` : ''}; Ctrl-C stops\n`,
  );
}
