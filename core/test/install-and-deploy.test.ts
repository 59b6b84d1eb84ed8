import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { validate } from 'dockerfile-utils';
import { tempDataDir } from './helpers/temp-data-dir.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/**
 * Runs `<command> start --demo` in an empty site folder until both demo meters
 * gave a first reading, then `<command> status` must show them online.
 */
async function demoUntilOnline(site: string, command: string, prefix: string[]): Promise<{ firstReadingSeconds: number; rssMb: number }> {
  writeFileSync(join(site, 'meterhub.json'), JSON.stringify({ dataDir: './data', http: { port: 0 } }));
  const t1 = Date.now();
  // Its own process group: npx runs the host in a child, and the whole group is stopped.
  const child = spawn(command, [...prefix, 'start', '--demo'], { cwd: site, env: { PATH: process.env['PATH'] }, detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.on('exit', r));
  try {
    const deadline = Date.now() + 60000;
    while (!(out.includes('first reading from demo-sdm630') && out.includes('first reading from demo-sdm230')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).to.include('first reading from demo-sdm630');
    const firstReadingSeconds = (Date.now() - t1) / 1000;
    const { stdout: status } = await run(command, [...prefix, 'status'], { cwd: site, env: { PATH: process.env['PATH'] } });
    expect(status).to.match(/demo-sdm630\s+online/);
    expect(status).to.match(/demo-sdm230\s+online/);
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
    return { firstReadingSeconds, rssMb };
  } finally {
    process.kill(-child.pid!, 'SIGINT');
    await exited;
  }
}

/**
 * better-sqlite3 installs with prebuild-install, which takes a binary from a
 * local prebuild folder, then from npm's cache (~/.npm/_prebuilds, where it
 * keeps what it downloaded), and downloads it otherwise; only when all fail
 * does it compile from source. Here there is no network, so this folder gives
 * it what a user's warm cache holds: the release asset's tarball, made of the
 * checkout's own binary. (Compiling instead takes about 220 s of a 245 s
 * install on the loaded 2-core development machine.)
 */
async function localSqlitePrebuild(folder: string): Promise<string> {
  const pkgDir = join(repo, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(folder, { recursive: true });
  const asset = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await run('tar', ['czf', join(folder, asset), 'build/Release/better_sqlite3.node'], { cwd: pkgDir });
  return folder;
}

/** The `count` largest packages in a node_modules folder, scoped ones counted per package: "exceljs 23 MB, …". */
async function largestPackages(nodeModules: string, count: number): Promise<string> {
  const dirs = readdirSync(nodeModules).flatMap((n) => (n.startsWith('@') ? readdirSync(join(nodeModules, n)).map((m) => `${n}/${m}`) : n.startsWith('.') ? [] : [n]));
  const { stdout } = await run('du', ['-sk', ...dirs], { cwd: nodeModules, maxBuffer: 1 << 24 });
  return stdout.trim().split('\n').map((l) => l.split('\t')).map(([kb, name]) => ({ name: name!, mb: Number(kb) / 1024 }))
    .sort((a, b) => b.mb - a.mb).slice(0, count).map((p) => `${p.name} ${p.mb.toFixed(0)} MB`).join(', ');
}

describe('installing and deploying', function () {
  this.timeout(600000);

  it('the Dockerfile passes the linter with no diagnostic', () => {
    const diagnostics = validate(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
    expect(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`)).to.deep.equal([]);
  });

  it('the systemd unit passes `systemd-analyze verify` without a warning', async () => {
    const { stderr } = await run('systemd-analyze', ['verify', join(repo, 'examples/systemd/meterhub.service')]).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`systemd-analyze verify failed (Debian package systemd): ${err.stderr ?? err.message}`);
    });
    expect(stderr.trim()).to.equal('');
  });

  // The Dockerfile's build stage and a bare-metal install run packaging/install.sh;
  // here it runs on a clean copy of the checkout, from npm's cache.
  it('packaging/install.sh installs a clean copy that starts the demo and answers `meterhub status`', async () => {
    const dir = tempDataDir();
    try {
      const copy = join(dir.root, 'meterhub');
      const { stdout: tracked } = await run('git', ['ls-files', '-z'], { cwd: repo, maxBuffer: 1 << 26 });
      for (const file of tracked.split('\0').filter(Boolean)) {
        mkdirSync(dirname(join(copy, file)), { recursive: true });
        cpSync(join(repo, file), join(copy, file));
      }
      const t0 = Date.now();
      await run('bash', ['packaging/install.sh'], { cwd: copy, env: { ...process.env, METERHUB_NPM_PREFER_OFFLINE: '1' }, maxBuffer: 1 << 26 }).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`install.sh failed:\n${(err.stdout ?? '').slice(-2000)}\n${(err.stderr ?? '').slice(-2000)}`);
      });
      const installSeconds = (Date.now() - t0) / 1000;
      const { stdout: du } = await run('du', ['-sm', join(copy, 'node_modules')]);
      const sizeMb = Number(du.split('\t')[0]);

      const site = join(dir.root, 'site');
      mkdirSync(site);
      const cli = join(copy, 'packages/meterhub/bin/meterhub.js');
      const figures = await demoUntilOnline(site, process.execPath, [cli]);
      console.log(`      install from npm's cache ${installSeconds.toFixed(1)} s, first demo reading ${figures.firstReadingSeconds.toFixed(1)} s after start, ` +
        `node_modules without dev dependencies ${sizeMb} MB, host RSS with the demo ${figures.rssMb.toFixed(0)} MB`);
    } finally {
      dir.cleanup();
    }
  });

  // What `npm install meterhub` gives a user: every package packed (each builds
  // its dist/ on prepack), the tarballs installed into an empty folder from npm's cache.
  it('the packed packages install into an empty folder, and `npx meterhub start --demo` runs there', async () => {
    const dir = tempDataDir();
    try {
      const tarballs = join(dir.root, 'tarballs');
      mkdirSync(tarballs);
      const workspaces = ['sdk', 'core', 'drivers/sdm230', 'drivers/sdm630', 'packages/meterhub',
        ...readdirSync(join(repo, 'plugins')).map((p) => `plugins/${p}`)];
      await run('npm', ['pack', '--pack-destination', tarballs, ...workspaces.flatMap((w) => ['-w', w])], { cwd: repo, maxBuffer: 1 << 26 });
      const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
      expect(files).to.have.length(workspaces.length);

      const site = join(dir.root, 'site');
      mkdirSync(site);
      // Install scripts of native modules are allowed explicitly for npm 11.
      writeFileSync(join(site, 'package.json'), JSON.stringify({
        name: 'site', private: true, allowScripts: { 'better-sqlite3': true, '@serialport/bindings-cpp': true, '@scarf/scarf': false },
      }));
      const prebuilds = await localSqlitePrebuild(join(dir.root, 'prebuilds'));
      const t0 = Date.now();
      await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files.map((f) => join(tarballs, f))], {
        cwd: site, maxBuffer: 1 << 26, env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds },
      }).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`npm install of the tarballs failed:\n${(err.stdout ?? '').slice(-2000)}\n${(err.stderr ?? '').slice(-2000)}`);
      });
      const installSeconds = (Date.now() - t0) / 1000;
      // The prebuilt binary was taken: nothing was compiled (node-gyp leaves its object files beside the binary).
      expect(existsSync(join(site, 'node_modules/better-sqlite3/build/Release/obj.target'))).to.equal(false);
      const { stdout: du } = await run('du', ['-sm', join(site, 'node_modules')]);
      const sizeMb = Number(du.split('\t')[0]);
      const figures = await demoUntilOnline(site, 'npx', ['--no-install', 'meterhub']);
      console.log(`      tarball install from npm's cache with better-sqlite3's prebuilt binary ${installSeconds.toFixed(1)} s (${files.length} packages), ` +
        `first demo reading ${figures.firstReadingSeconds.toFixed(1)} s after start (target: < 60 s together), installed size ${sizeMb} MB (target <= 120 MB); ` +
        `largest: ${await largestPackages(join(site, 'node_modules'), 5)}`);
    } finally {
      dir.cleanup();
    }
  });
});
