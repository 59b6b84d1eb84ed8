import { parseArgs } from 'node:util';
import { describeError } from '../errors/error-catalog.js';
import { formatConformanceReport } from './conformance-report.js';
import { runConformance } from './driver-conformance.js';

const USAGE = `usage: meterhub-driver-test [path ...] [--json]

Checks driver definitions as the meterhub host will load them: the schema,
the measurement vocabulary, units, overlapping registers, ranges and probes,
the package manifest when given a folder, then a poll of the SDK's meter
simulator serving each definition over Modbus TCP. A path is a definition
file or a driver package folder (default: the current folder).

Exit status: 0 all checks passed, 1 a check failed, 2 a path is not a
definition file or driver package.`;

const OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

/**
 * The `meterhub-driver-test` command (a driver package's `npm test`): runs the
 * conformance kit on each path and returns the exit status. Needs only the
 * SDK, so a driver package tests without the host installed.
 */
export async function runDriverTestCli(args: readonly string[], out: (text: string) => void = console.log, err: (text: string) => void = console.error): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true });
  } catch (e) {
    err(`meterhub-driver-test: ${describeError(e)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    out(USAGE);
    return 0;
  }
  const targets = parsed.positionals.length > 0 ? parsed.positionals : ['.'];
  let status = 0;
  for (const target of targets) {
    try {
      const report = await runConformance(target);
      out(parsed.values.json ? JSON.stringify(report, null, 2) : formatConformanceReport(report));
      if (!report.ok) status = Math.max(status, 1);
    } catch (e) {
      err(`meterhub-driver-test: ${describeError(e)}`);
      status = 2;
    }
  }
  return status;
}
