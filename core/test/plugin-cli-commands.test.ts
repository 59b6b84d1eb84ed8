import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDataDir } from './helpers/temp-data-dir.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../packages/meterhub/bin/meterhub.js', import.meta.url));

/** Writes a third-party plugin package whose CLI module adds `commands`, each printing its name, the plugin's config and the meters the session sees. */
function writePlugin(root: string, name: string, commands: string[]): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({
    name, version: '1.0.0', type: 'module', main: 'index.js', keywords: ['meterhub-plugin'],
    meterhub: { kind: 'plugin', hostApi: '^1.0.0', cli: { module: './cli.js', commands } },
  }));
  writeFileSync(join(root, 'index.js'), 'export default () => ({ configSchema: { type: "object", properties: { greeting: { type: "string", default: "hello" } } }, start() {} });\n');
  writeFileSync(join(root, 'cli.js'), `export function registerCli(program, host) {
  for (const name of ${JSON.stringify(commands)}) {
    program.command(name).description('third-party command ' + name).action(async () => {
      const session = await host.open(program.opts());
      try {
        const meters = (await session.meters.list()).map((m) => m.id);
        console.log(JSON.stringify({ command: name, plugin: host.pluginId, config: session.config, meters }));
      } finally {
        await session.close();
      }
    });
  }
}
`);
}

describe('CLI commands of third-party plugins', function () {
  this.timeout(60000);
  let dir: ReturnType<typeof tempDataDir>;

  beforeEach(() => {
    dir = tempDataDir();
  });
  afterEach(() => dir.cleanup());

  it('a plugin installed in the data folder adds its command: listed in help, run with a session on the configured host', async () => {
    writePlugin(join(dir.dataDir, 'node_modules', 'meterhub-plugin-hello'), 'meterhub-plugin-hello', ['hello']);
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({
      dataDir: './data', plugins: { hello: { config: { greeting: 'moin' } } },
    }));
    const help = await run(process.execPath, [CLI, '--help'], { cwd: dir.root });
    expect(help.stdout).to.match(/\n\s+hello\s+third-party command hello/);
    const { stdout } = await run(process.execPath, [CLI, 'hello'], { cwd: dir.root });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).to.deep.equal({ command: 'hello', plugin: 'hello', config: { greeting: 'moin' }, meters: [] });
  });

  it('a plugin named in pluginPackages by path adds its command, found through --config from another folder', async () => {
    writePlugin(join(dir.root, 'plugins', 'tools'), 'meterhub-plugin-tools', ['tools-report']);
    const config = join(dir.root, 'site.json');
    writeFileSync(config, JSON.stringify({ dataDir: './data', pluginPackages: ['./plugins/tools'] }));
    const { stdout } = await run(process.execPath, [CLI, '--config', config, 'tools-report'], { cwd: dir.dataDir });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).to.include({ command: 'tools-report', plugin: 'tools' });
  });

  it('a command that clashes with a built-in one is refused with a warning; the built-in one runs', async () => {
    writePlugin(join(dir.dataDir, 'node_modules', 'meterhub-plugin-greedy'), 'meterhub-plugin-greedy', ['validate', 'greedy']);
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data' }));
    const help = await run(process.execPath, [CLI, '--help'], { cwd: dir.root });
    expect(help.stderr).to.include('meterhub-plugin-greedy: command "validate" already exists; not added');
    expect(help.stdout).to.match(/\n\s+greedy\s+third-party command greedy/);
    const validate = await run(process.execPath, [CLI, 'validate'], { cwd: dir.root });
    expect(validate.stdout).to.match(/meterhub\.json: valid/);
    expect(validate.stdout).not.to.include('third-party');
  });

  it('an unknown command still fails with exit 2 and a suggestion when no plugin has it', async () => {
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data' }));
    const err = await run(process.execPath, [CLI, 'statsu'], { cwd: dir.root }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(err?.code).to.equal(2);
    expect(err?.stderr).to.match(/Did you mean status\?/i);
  });
});
