import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ajvErrorsToDetails, compileSchema, createAjv, validatorCacheDir } from '../src/index.js';

const run = promisify(execFile);

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['port'],
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    host: { type: 'string', format: 'hostname', default: '127.0.0.1' },
    level: { enum: ['info', 'warn'], default: 'info' },
    nested: { type: 'object', default: {}, properties: { on: { type: 'boolean', default: true } } },
  },
};
const INPUTS: unknown[] = [{ port: 502 }, { port: 0, host: 'not a host!' }, { level: 'wran' }, { port: 1, extra: 1 }, 'text'];

/** What a validator gives for each input: the filled-in data and the errors as the host reports them. */
function outcomes(validate: ReturnType<typeof compileSchema>): unknown[] {
  return INPUTS.map((input) => {
    const data = structuredClone(input);
    const valid = validate(data);
    return { valid, data, errors: ajvErrorsToDetails(validate.errors) };
  });
}

describe('compiled validators are cached across processes', () => {
  let dir: string;
  const saved = process.env['METERHUB_CACHE_DIR'];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meterhub-validators-'));
    process.env['METERHUB_CACHE_DIR'] = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['METERHUB_CACHE_DIR'];
    else process.env['METERHUB_CACHE_DIR'] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('the cached code validates exactly as AJV compiled in memory: same errors, same defaults, verbose hints', () => {
    const fresh = outcomes(createAjv({ verbose: true }).compile(SCHEMA));
    const first = compileSchema(SCHEMA, { verbose: true });
    expect(readdirSync(join(dir, 'validators'))).to.have.length(1);
    const cached = compileSchema(SCHEMA, { verbose: true });
    expect(cached).to.not.equal(first);
    expect(outcomes(first)).to.deep.equal(fresh);
    expect(outcomes(cached)).to.deep.equal(fresh);
    expect((fresh[2] as { errors: unknown[] }).errors).to.deep.include({ path: '/level', message: 'must be equal to one of the allowed values', hint: 'did you mean "warn"?; allowed: "info", "warn"' });
  });

  it('another process loads the cached validator instead of compiling (AJV\'s compiler is never loaded)', async () => {
    compileSchema(SCHEMA);
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const { compileSchema } = await import(${JSON.stringify(index)});
      const v = compileSchema(${JSON.stringify(SCHEMA)});
      const data = { port: 502 };
      const ok = v(data);
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => /ajv\\/dist\\/(core|compile\\/index)\\.js$/.test(f));
      console.log(JSON.stringify({ ok, data, loaded }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, METERHUB_CACHE_DIR: dir } });
    expect(JSON.parse(stdout)).to.deep.equal({ ok: true, data: { port: 502, host: '127.0.0.1', level: 'info', nested: { on: true } }, loaded: [] });
  });

  it('a damaged cache file is compiled again and replaced; different options are different entries', () => {
    compileSchema(SCHEMA);
    const [file] = readdirSync(join(dir, 'validators'));
    writeFileSync(join(dir, 'validators', file!), 'module.exports = ');
    const v = compileSchema(SCHEMA);
    expect(v({ port: 0 })).to.equal(false);
    expect(compileSchema(SCHEMA)({ port: 1 })).to.equal(true);
    compileSchema(SCHEMA, { useDefaults: false });
    expect(readdirSync(join(dir, 'validators')).filter((f) => f.endsWith('.cjs'))).to.have.length(2);
  });

  it('METERHUB_CACHE_DIR="" turns the cache off; XDG_CACHE_HOME and the home folder are the defaults', () => {
    process.env['METERHUB_CACHE_DIR'] = '';
    expect(compileSchema(SCHEMA)({ port: 1 })).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(validatorCacheDir({ XDG_CACHE_HOME: '/var/cache/x' })).to.equal('/var/cache/x/meterhub/validators');
    expect(validatorCacheDir({})).to.match(/\/\.cache\/meterhub\/validators$/);
  });
});
