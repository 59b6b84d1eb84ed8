/**
 * CLI start-up and host footprint: how long `meterhub --version`, `status`,
 * `validate` and `drivers` take from exec to exit (median of a few runs,
 * beside `node -e 0` in the same rounds), and the RSS of `meterhub start
 * --demo` at rest beside a bare node process that imports express and listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { report, type BenchContext } from './bench-report.js';

const CLI = fileURLToPath(new URL('../packages/meterhub/bin/meterhub.js', import.meta.url));
const DEMO_CONFIG = fileURLToPath(new URL('../examples/configs/demo.json', import.meta.url));
const STARTUP_TARGET_MS = 500;
const RSS_TARGET_MB = 100;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEPLOYED_NODE_OPTIONS = '--max-semi-space-size=4';

/**
 * RSS of a host at rest (the demo meters polled, no client connected). It moves
 * with the young generation's fill between scavenges: the median of samples
 * taken over the last third of the period.
 */
async function restingRss(host: ChildProcess, seconds: number): Promise<number> {
  const samples: number[] = [];
  const start = Date.now();
  while (Date.now() - start < seconds * 1000) {
    if (Date.now() - start > (seconds * 1000 * 2) / 3) samples.push(rssMb(host.pid!));
    await sleep(250);
  }
  return median(samples);
}

/** Wall time from spawn to exit of one process, in ms; a failing command is a bench failure. */
function timeRun(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (code === 0) resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(-500)}`));
    });
  });
}

/** Starts a process and resolves once its output contains every marker. */
async function startUntil(args: string[], cwd: string, markers: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!markers.every((m) => out.includes(m))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} did not get ready: ${out.slice(-1000)}`);
    }
    await sleep(50);
  }
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

export async function cliBench(ctx: BenchContext): Promise<void> {
  const rounds = ctx.smoke ? 3 : 7;
  // At rest means after V8's memory reducer has run: it gives the start-up's
  // young generation back once allocation has been low for several seconds
  // (seen here 15-20 s after the last command; before that RSS is ~20 MB higher).
  const restSeconds = ctx.smoke ? 25 : 45;
  const site = tempDataDir();
  // Compiled validators go to a cache of this run's own, not the user's.
  const cacheDir = mkdtempSync(join(tmpdir(), 'meterhub-bench-cache-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], METERHUB_CACHE_DIR: cacheDir };
  let host: ChildProcess | undefined;
  let bare: ChildProcess | undefined;
  try {
    writeFileSync(join(site.root, 'meterhub.json'), JSON.stringify({ dataDir: './data', http: { port: 0 } }));
    host = await startUntil([CLI, 'start', '--demo'], site.root, ['first reading from demo-sdm630', 'first reading from demo-sdm230'], env);

    // The host above filled the cache with the validators `validate` needs too: the cold run gets an empty one of its own.
    const coldCache = mkdtempSync(join(tmpdir(), 'meterhub-bench-cache-'));
    const cold = await timeRun([CLI, 'validate', '-c', DEMO_CONFIG], site.root, { ...env, METERHUB_CACHE_DIR: coldCache }).finally(() => rmSync(coldCache, { recursive: true, force: true }));
    const commands: Record<string, string[]> = {
      'node -e 0': ['-e', '0'],
      'meterhub --version': [CLI, '--version'],
      'meterhub status': [CLI, 'status'],
      'meterhub validate': [CLI, 'validate', '-c', DEMO_CONFIG],
      'meterhub drivers': [CLI, 'drivers'],
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
    // Interleaved rounds: a burst of load on the shared machine hits every command alike.
    for (let r = 0; r < rounds; r++) {
      for (const [name, args] of Object.entries(commands)) times[name]!.push(await timeRun(args, site.root, env));
    }
    const node = median(times['node -e 0']!);
    console.log(`node -e 0: median ${node.toFixed(0)} ms of ${rounds} runs`);
    for (const name of Object.keys(commands).slice(1)) {
      const m = median(times[name]!);
      const targeted = name === 'meterhub status' || name === 'meterhub validate';
      const line = `median ${m.toFixed(0)} ms of ${rounds} runs${targeted ? ` (target <= ${STARTUP_TARGET_MS} ms)` : ''}`;
      const ratio = `${(m / node).toFixed(1)}x node -e 0, +${(m - node).toFixed(0)} ms`;
      if (targeted) report(ctx, `${name} start-up`, line, `node -e 0 ${node.toFixed(0)} ms`, ratio, m <= STARTUP_TARGET_MS);
      else console.log(`       ${name} start-up: ${line} | baseline: node -e 0 ${node.toFixed(0)} ms | ${ratio}`);
    }
    console.log(`       meterhub validate with an empty validator cache (first run after install): ${cold.toFixed(0)} ms`);

    const hostRss = await restingRss(host, restSeconds);
    await stop(host);
    // The Docker image and the systemd unit run the host with a 4 MB young-generation semi-space (see docs/benchmarks.md).
    host = await startUntil([CLI, 'start', '--demo'], site.root, ['first reading from demo-sdm630', 'first reading from demo-sdm230'], { ...env, NODE_OPTIONS: DEPLOYED_NODE_OPTIONS });
    const deployedRss = await restingRss(host, restSeconds);
    const bareScript = "const a=require('express')();const s=a.listen(0,'127.0.0.1',()=>console.log('listening'));";
    bare = await startUntil(['-e', bareScript], site.root, ['listening'], { PATH: process.env['PATH'], NODE_PATH: join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules') });
    await sleep(1000);
    const bareRss = rssMb(bare.pid!);
    const vsBare = (mb: number) => `${(mb / bareRss).toFixed(1)}x, +${(mb - bareRss).toFixed(0)} MB`;
    report(ctx, 'host RSS at rest with the demo', `${hostRss.toFixed(0)} MB (median over the last third of ${restSeconds} s at rest, all built-in plugins on; target <= ${RSS_TARGET_MB} MB)`,
      `node + express listening ${bareRss.toFixed(0)} MB`, vsBare(hostRss), hostRss <= RSS_TARGET_MB);
    console.log(`       host RSS at rest with the demo, NODE_OPTIONS=${DEPLOYED_NODE_OPTIONS} (Docker image, systemd unit): ${deployedRss.toFixed(0)} MB | baseline: node + express listening ${bareRss.toFixed(0)} MB | ${vsBare(deployedRss)}`);
  } finally {
    if (bare) await stop(bare);
    if (host) await stop(host);
    site.cleanup();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
