import { expect } from 'chai';
import { execFile } from 'node:child_process';
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

  it('@meterhub/sdk ships its compiled code, types and schemas, no sources or build info', async () => {
    const files = await packList('sdk');
    expect(files).to.include.members(['dist/index.js', 'dist/index.d.ts', 'schemas/driver.schema.json', 'package.json']);
    expect(files.some((f) => f.startsWith('src/') || f.endsWith('.tsbuildinfo'))).to.equal(false);
  });

  it('@meterhub/core ships the meterhub binary', async () => {
    const files = await packList('core');
    expect(files).to.include.members(['bin/meterhub.js', 'dist/cli/main.js', 'dist/index.js', 'dist/host.js']);
    expect(files.some((f) => f.startsWith('test/'))).to.equal(false);
  });

  it('driver packages ship their JSON definitions; plugin packages their code', async () => {
    expect(await packList('drivers/sdm230')).to.include.members(['sdm230.json', 'sdm230-2t.json', 'package.json']);
    expect(await packList('drivers/sdm630')).to.include.members(['sdm630.json']);
    expect(await packList('plugins/modbus-tcp')).to.include('dist/index.js');
    expect(await packList('plugins/modbus-rtu')).to.include('dist/index.js');
  });
});
