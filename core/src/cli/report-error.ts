import { describeError, isMeterhubError } from '@meterhub/sdk';

/** Exit status for a configuration the user must fix (as documented in the README). */
export const EXIT_CONFIG = 2;
export const EXIT_FAILURE = 1;

/** Prints an error for a person: the code, the message, then each detail on its own line with its path. */
export function formatError(err: unknown): string {
  if (!isMeterhubError(err)) return `meterhub: ${describeError(err)}`;
  const lines = [`meterhub: ${err.code}: ${err.message}`];
  const width = Math.min(40, Math.max(0, ...err.details.map((d) => d.path.length)));
  for (const d of err.details) {
    lines.push(`  ${d.path.padEnd(width)}  ${d.message}${d.hint ? `  (${d.hint})` : ''}`);
  }
  return lines.join('\n');
}

/** The exit status for an error: 2 for anything the user fixes in the configuration. */
export function exitCodeFor(err: unknown): number {
  if (isMeterhubError(err) && /CONFIG|LEGACY_SETTING|API_RANGE|PLUGIN_NOT_FOUND|VALIDATION|DATABASE_LOGIN/.test(err.code)) return EXIT_CONFIG;
  return EXIT_FAILURE;
}
