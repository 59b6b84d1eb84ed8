import { isAbsolute, relative } from 'node:path';
import type { ConformanceCheck, ConformanceReport } from './driver-conformance.js';

/**
 * The report as a person reads it: one line per check (`ok` or `FAIL`), each
 * problem under it with its JSON path, files relative to `cwd`, and a last
 * line `conformance: passed` or `conformance: N check(s) failed`. Both
 * `meterhub-driver-test` and `meterhub driver test` print it.
 */
export function formatConformanceReport(report: ConformanceReport, cwd = process.cwd()): string {
  const lines: string[] = [];
  const print = (c: ConformanceCheck, indent: string) => {
    lines.push(`${indent}${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);
    for (const p of c.problems) lines.push(`${indent}       ${p.path}  ${p.message}`);
  };
  for (const c of report.packageChecks) print(c, '');
  // Files under the working folder are shown relative to it, others in full.
  const shown = (file: string) => {
    const rel = relative(cwd, file);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
  };
  for (const d of report.definitions) {
    lines.push(`${shown(d.file)}${d.id ? ` (${d.id})` : ''}`);
    for (const c of d.checks) print(c, '  ');
  }
  const failed = [...report.packageChecks, ...report.definitions.flatMap((d) => d.checks)].filter((c) => !c.ok).length;
  if (report.definitions.length === 0) lines.push('conformance: no definition was checked');
  else lines.push(report.ok ? 'conformance: passed' : `conformance: ${failed} check(s) failed`);
  return lines.join('\n');
}
