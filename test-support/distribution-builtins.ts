// Mocha root-hook plugin (see .mocharc.cjs): hosts the tests create in process
// load the distribution's built-in packages, as `meterhub start` does, without
// each test naming them. Core itself names none.
import { createRequire } from 'node:module';

type BuiltinsModule = { setDefaultBuiltins(packages: readonly string[]): void };

export const mochaHooks = {
  async beforeAll(): Promise<void> {
    const { builtinPackageDirs } = await import('../packages/meterhub/src/builtin-packages.js');
    const dirs = builtinPackageDirs();
    // Mocha loads a test file with require() when its imports allow it (Node's
    // require of ES modules) and with import() otherwise, so core's modules may
    // exist twice in this process, once per loader: both get the built-ins.
    const esm = (await import('../core/src/plugins/builtin-packages.js')) as BuiltinsModule;
    const cjs = createRequire(import.meta.url)('../core/src/plugins/builtin-packages.js') as BuiltinsModule;
    for (const instance of new Set([esm, cjs])) instance.setDefaultBuiltins(dirs);
  },
};
