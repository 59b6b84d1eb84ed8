import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../packages/meterhub/bin/meterhub.js', import.meta.url));

/**
 * Runs the built `meterhub` CLI in `cwd` with `input` on stdin (how scripts
 * pass a password). The environment is clean unless `inheritEnv` (commands
 * that run npm need the machine's CA and proxy settings).
 */
export function runCli(args: string[], cwd: string, input = '', inheritEnv = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = inheritEnv ? { ...process.env } : { PATH: process.env['PATH'] };
    // Variables the host reads would leak into the child's configuration.
    for (const name of ['PORT', 'HOST', 'DEBUG', 'LOG_LEVEL', 'SECRET_KEY', 'DATABASE_URL', 'DB_HOST', 'REDIS_URL', 'METERHUB_CONFIG']) delete env[name];
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
