import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { validateDriverDefinition } from '@meterhub/sdk';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(repo, 'packages/meterhub/bin/meterhub.js');
const run = promisify(execFile);

/** The fenced ```json blocks of a Markdown file. */
function jsonBlocks(file: string): unknown[] {
  const text = readFileSync(join(repo, file), 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
}

describe('docs and examples stay true to the code', function () {
  this.timeout(30000);

  for (const file of readdirSync(join(repo, 'examples/configs')).filter((f) => f.endsWith('.json'))) {
    it(`examples/configs/${file} validates`, async () => {
      const { stdout } = await run(process.execPath, [CLI, 'validate', '--config', join(repo, 'examples/configs', file)], { env: { PATH: process.env['PATH'] } });
      expect(stdout).to.match(/: valid \(/);
    });
  }

  it('the driver example in docs/drivers.md passes the driver checks', () => {
    const [example] = jsonBlocks('docs/drivers.md') as Array<{ id: string }>;
    expect(example!.id).to.equal('acme-em100');
    const { $schema: _ignored, ...def } = example as Record<string, unknown>;
    expect(validateDriverDefinition(def)).to.deep.equal([]);
  });

  it('the configuration example in the README validates', async () => {
    const readmeConfig = jsonBlocks('README.md')[0] as Record<string, unknown>;
    const dir = join(repo, 'examples/configs');
    const { Host } = await import('../src/host.js');
    const { createLogger } = await import('../src/logging/logger.js');
    const host = new Host({ config: { ...readmeConfig, dataDir: '/nonexistent-meterhub-docs' }, cwd: dir, env: {}, logger: createLogger({ level: 'silent', pretty: false }) });
    await host.prepare();
    expect(host.config.meters.map((m) => m.id)).to.deep.equal(['house', 'heat-pump']);
  });
});
