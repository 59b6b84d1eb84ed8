import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const REPO = fileURLToPath(new URL('..', import.meta.url));

/** `npm pack` of one of this repo's packages into `dest`, as a publisher would (prepack builds it); returns the tarball's path. */
export async function packPackage(folder: string, dest: string): Promise<string> {
  const { stdout } = await exec('npm', ['pack', '--pack-destination', dest, '--silent'], { cwd: join(REPO, folder) });
  return join(dest, stdout.trim().split('\n').pop()!);
}

/**
 * The environment of a user's shell outside this repository: npm's variables
 * from an enclosing `npm test` removed, and no PATH entry inside the repo
 * (its node_modules/.bin would lend commands the folder did not install).
 */
export function outsideEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  env['PATH'] = (process.env['PATH'] ?? '').split(delimiter).filter((p) => p && !p.startsWith(REPO) && !p.includes('node_modules')).join(delimiter);
  return env;
}
