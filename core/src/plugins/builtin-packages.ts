/**
 * The packages that ship with a distribution. Core names none: a distribution
 * (the `meterhub` package) or an embedder sets them, as package folders or
 * names resolvable from core. A host whose options give no `builtins` uses
 * these.
 */
let defaults: readonly string[] = [];

/** Sets the built-in packages of this process (the distribution's bin, a test suite's root hook). */
export function setDefaultBuiltins(packages: readonly string[]): void {
  defaults = [...packages];
}

/** The built-in packages set by `setDefaultBuiltins` (none until then). */
export function defaultBuiltins(): readonly string[] {
  return defaults;
}
