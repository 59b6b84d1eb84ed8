import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

interface PackResult { name: string; files: Array<{ path: string }> }

/** What `npm pack` would put in each package's tarball (built first by `npm test`). */
async function packList(workspace: string): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '-w', workspace], { cwd: repo });
  return (JSON.parse(stdout) as PackResult[])[0]!.files.map((f) => f.path);
}

describe('every package is packable with what it needs', function () {
  this.timeout(60000);

  it('@meterhub/sdk ships its compiled code, types and schemas, and the conformance kit\'s command; no sources or build info', async () => {
    const files = await packList('sdk');
    expect(files).to.include.members(['dist/index.js', 'dist/index.d.ts', 'schemas/driver.schema.json', 'package.json',
      'bin/meterhub-driver-test.js', 'dist/conformance/index.js', 'dist/conformance/index.d.ts']);
    expect(files.some((f) => f.startsWith('src/') || f.endsWith('.tsbuildinfo'))).to.equal(false);
  });

  it('@meterhub/core ships the host and its CLI, and no binary of its own', async () => {
    const files = await packList('core');
    expect(files).to.include.members(['dist/cli/run-cli.js', 'dist/index.js', 'dist/host.js']);
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('bin/'))).to.equal(false);
  });

  it('the meterhub distribution ships the meterhub binary and its built-in list', async () => {
    const files = await packList('packages/meterhub');
    expect(files).to.include.members(['bin/meterhub.js', 'dist/main.js', 'dist/builtin-packages.js', 'dist/index.js']);
  });

  it('driver packages ship their JSON definitions; plugin packages their code', async () => {
    expect(await packList('drivers/sdm230')).to.include.members(['sdm230.json', 'sdm230-2t.json', 'package.json']);
    expect(await packList('drivers/sdm630')).to.include.members(['sdm630.json']);
    expect(await packList('plugins/modbus-tcp')).to.include('dist/index.js');
    expect(await packList('plugins/modbus-rtu')).to.include('dist/index.js');
  });

  it('@meterhub/core depends on no plugin or driver package and names none', () => {
    const core = join(repo, 'core');
    const texts = [readFileSync(join(core, 'package.json'), 'utf8'), readFileSync(join(core, 'tsconfig.json'), 'utf8')];
    for (const file of readdirSync(join(core, 'src'), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.ts')) texts.push(`${file}: ${readFileSync(join(core, 'src', file), 'utf8')}`);
    }
    const named = texts.flatMap((t) => t.match(/[^\n]*@meterhub\/(plugin|driver)-[^\n]*/g) ?? []);
    expect(named).to.deep.equal([]);
  });

  it('the distribution depends on every package of its built-in list', async () => {
    const { BUILTIN_PACKAGES } = await import('../../packages/meterhub/src/builtin-packages.js');
    const pkg = JSON.parse(readFileSync(join(repo, 'packages/meterhub/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).to.include.members([...BUILTIN_PACKAGES, '@meterhub/core', '@meterhub/sdk']);
  });

  it('a plugin contributes its CLI command through its manifest: `meterhub export` comes from the export plugin', async () => {
    const { pluginCommands } = await import('../src/cli/plugin-commands.js');
    const { builtinPackageDirs } = await import('../../packages/meterhub/src/builtin-packages.js');
    const commands = pluginCommands(builtinPackageDirs());
    expect(commands.map((c) => `${c.packageName} ${c.name}`)).to.include('@meterhub/plugin-export export');
    expect(commands.find((c) => c.name === 'export')!.module).to.match(/plugins\/export\/dist\/export-cli\.js$/);
    const bin = join(repo, 'packages/meterhub/bin/meterhub.js');
    const { stdout } = await run(process.execPath, [bin, '--help'], { cwd: repo });
    expect(stdout).to.match(/\n\s+export \[options\]\s+write history/);
    expect(existsSync(join(repo, 'core/src/cli/commands/export-command.ts'))).to.equal(false);
  });
});
