// Mocha root-hook plugin (see .mocharc.cjs): hosts the tests create in process
// load the distribution's built-in packages, as `meterhub start` does, without
// each test naming them. Core itself names none. The modules are imported in
// the hook, so they are the ES module instances the tests import too.
export const mochaHooks = {
  async beforeAll(): Promise<void> {
    const { setDefaultBuiltins } = await import('../core/src/plugins/builtin-packages.js');
    const { builtinPackageDirs } = await import('../packages/meterhub/src/builtin-packages.js');
    setDefaultBuiltins(builtinPackageDirs());
  },
};
