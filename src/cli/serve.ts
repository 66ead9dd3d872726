// `rtsr serve`: the demo and profiling pages, the browser bundles, the zoo and a models folder over HTTP, for a
// browser on this machine or (with --host 0.0.0.0) a phone on the same network. Profiles posted by the
// profiling page are written under --profiles.
import { existsSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { createRtsrServer } from '../serve/server.js';
import { CliError, intOption, parseCli } from './args.js';

const USAGE = `usage: rtsr serve [--port 8080] [--host 127.0.0.1] [--models DIR] [--profiles profiles/devices]

  --host      the interface to listen on; 0.0.0.0 opens the pages to your network (a phone on the same Wi-Fi)
  --models    a folder of .rtsr files to offer beside the zoo
  --profiles  where the profiling page's results are written`;

/** The URLs a browser opens: the host itself, or every IPv4 address of this machine when bound to all. */
function urlsFor(host: string, port: number): string[] {
  const all = host === '0.0.0.0' || host === '::';
  const hosts = all
    ? Object.values(networkInterfaces()).flatMap((ifs) => (ifs ?? []).filter((i) => i.family === 'IPv4').map((i) => i.address))
    : [host.includes(':') ? `[${host}]` : host];
  return hosts.map((h) => `http://${h}:${port}/`);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    models: { type: 'string' },
    profiles: { type: 'string', default: 'profiles/devices' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return void process.stdout.write(USAGE + '\n');
  const port = intOption('port', values.port as string | undefined, 8080, 0, 65535);
  const modelsDir = values.models === undefined ? undefined : resolve(values.models as string);
  if (modelsDir && !(existsSync(modelsDir) && statSync(modelsDir).isDirectory())) throw new CliError(`--models: ${values.models} is not a folder`);
  const log = (line: string) => process.stderr.write(line + '\n');
  const server = createRtsrServer({ modelsDir, profilesDir: resolve(values.profiles as string), log });
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(new CliError(`cannot listen on ${values.host}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, values.host as string, done);
  });
  const bound = (server.address() as { port: number }).port;
  const urls = urlsFor(values.host as string, bound);
  process.stdout.write(
    `rtsr serve: open ${urls[0]} (demo) or ${urls[0]}profile.html (profile this device)\n` +
      (urls.length > 1 ? `  on your network: ${urls.slice(1).join('  ')}\n` : '') +
      `  profiles go to ${resolve(values.profiles as string)}${modelsDir ? `; models from ${modelsDir}` : ''}; Ctrl-C stops\n`,
  );
}
