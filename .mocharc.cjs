// Mocha's config. The whole suite runs when no test file is named; naming files
// (`npx mocha plugins/mqtt/test/mqtt.test.ts`) runs only those, since mocha
// would otherwise add them to the configured spec list and run everything.
const named = process.argv.slice(2).some((arg) => !arg.startsWith('-') && /\.ts$/.test(arg));

module.exports = {
  // tsx's ES module loader only: mocha require()s a test file when it can, and
  // with tsx's CommonJS hook a file whose imports have no top-level await would
  // load as CommonJS while the plugins and lazily imported modules load as ES
  // modules, two instances of one module in a process. The product is ESM only.
  'node-option': ['import=tsx/esm'],
  extension: ['ts'],
  // Hosts created in tests load the distribution's built-in packages.
  require: ['./test-support/distribution-builtins.ts'],
  ...(named ? {} : {
    spec: [
      'sdk/test/**/*.test.ts',
      'core/test/**/*.test.ts',
      'drivers/test/**/*.test.ts',
      'plugins/*/test/**/*.test.ts',
    ],
  }),
  reporter: './test-support/summary-reporter.cjs',
  timeout: 20000,
  exit: true,
};
