import { createRequire } from 'node:module';
import { HOST_API_VERSION } from '@meterhub/sdk';

const SDK_VERSION = (createRequire(import.meta.url)('@meterhub/sdk/package.json') as { version: string }).version;

/**
 * The files of a new driver package (`meterhub driver new`): a manifest the
 * host finds by keyword, a register map to fill in from the datasheet (it
 * starts with one register so the conformance kit runs at once), a README, and
 * `npm test` running the SDK's conformance kit. Its only dependency is the SDK
 * (a dev dependency: the installed package is data), so it tests anywhere.
 */
export function driverScaffold(name: string): Record<string, string> {
  const id = name.replace(/^meterhub-driver-/, '');
  const major = HOST_API_VERSION.split('.')[0];
  const pkg = {
    name: name.startsWith('meterhub-driver-') ? name : `meterhub-driver-${name}`,
    version: '0.1.0',
    description: `meterhub driver for the ${id} meter`,
    license: 'MIT',
    keywords: ['meterhub-driver', 'modbus', id],
    files: [`${id}.json`, 'README.md'],
    meterhub: { kind: 'driver', hostApi: `^${major}.0.0`, definitions: [`${id}.json`] },
    scripts: { test: 'meterhub-driver-test .' },
    // The SDK's `meterhub-driver-test` runs the conformance kit; the host is not needed.
    devDependencies: { '@meterhub/sdk': `^${SDK_VERSION}` },
    // The kit polls over Modbus TCP: the serial port's native add-on (a dependency of the Modbus library) need not build.
    allowScripts: { '@serialport/bindings-cpp': false },
  };
  const definition = {
    $schema: 'https://meterhub.dev/schemas/driver.schema.json',
    id,
    vendor: 'TODO vendor',
    model: 'TODO model',
    description: 'TODO: what the meter is and which registers this file maps.',
    datasheets: ['https://example.com/TODO-link-to-the-datasheet.pdf'],
    defaults: { unitId: 1, baud: 9600, parity: 'none', dataBits: 8, stopBits: 1, wordOrder: 'high-first', byteOrder: 'big' },
    limits: { maxRegistersPerRequest: 40, alignment: 2, gaps: 'exception' },
    timing: { interRequestDelayMs: 60, unitSwitchDelayMs: 40, responseTimeoutMs: 500 },
    registers: [
      { measurement: 'voltageL1', function: 'input', address: 0, type: 'float32', unit: 'V', docRegister: 30001 },
    ],
    probe: [{ measurement: 'voltageL1', min: 90, max: 270 }],
  };
  const readme = `# ${pkg.name}

A [meterhub](https://github.com/meterhub/meterhub) driver: the register map of the ${id} meter.

- Datasheet: TODO (cite the document every register comes from; its link
  goes in \`datasheets\` in \`${id}.json\`, and each register's datasheet
  number in its \`docRegister\`)
- \`npm install && npm test\`: \`meterhub-driver-test .\` from
  [\`@meterhub/sdk\`](https://www.npmjs.com/package/@meterhub/sdk) checks the
  manifest, the schema, the measurement vocabulary, units and overlapping
  registers (each problem with its JSON path), then polls the SDK's meter
  simulator serving this map over Modbus TCP and compares every decoded value.

Install on a meterhub host: \`meterhub plugins install ${pkg.name}\`.
`;
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    [`${id}.json`]: `${JSON.stringify(definition, null, 2)}\n`,
    'README.md': readme,
    '.gitignore': 'node_modules/\n',
  };
}
