import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, Options } from 'ajv';
import type addFormatsModule from 'ajv-formats';
import type { ErrorDetail } from '../errors/error-catalog.js';
import { didYouMean } from './suggest-names.js';

// Both are CommonJS, required on first use: a process that loads its validators
// from the cache (see validator-cache.ts) never needs AJV's compiler.
const requireCjs = createRequire(import.meta.url);

/**
 * An AJV instance configured the way meterhub validates everything: all errors
 * at once, formats checked, defaults filled in. The host uses one for the
 * composed config schema; the SDK uses one for driver definitions.
 */
export function createAjv(options: Options = {}): Ajv {
  const { Ajv: AjvClass } = requireCjs('ajv') as { Ajv: typeof Ajv };
  const addFormats = requireCjs('ajv-formats') as typeof addFormatsModule.default;
  const ajv = new AjvClass({ allErrors: true, useDefaults: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

/** Reads a schema shipped in the SDK's `schemas/` folder. */
export function loadSdkSchema(file: string): Record<string, unknown> {
  // src/schema and dist/schema both sit two levels below the package root.
  return JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/**
 * Turns AJV errors into details with a JSON path and a plain message. A missing
 * property is reported at its own path (`/meters/0/driver`), not at its parent,
 * so the reader sees which field to add. With an AJV made with `verbose: true`,
 * a wrong enum value or an unknown property also gets the closest allowed
 * names ("did you mean …").
 */
export function ajvErrorsToDetails(errors: readonly ErrorObject[] | null | undefined, basePath = ''): ErrorDetail[] {
  // `if`/`then` failures only repeat the concrete errors they wrap.
  return (errors ?? []).filter((e) => e.keyword !== 'if').map((e) => {
    let path = `${basePath}${e.instancePath}`;
    let message = e.message ?? 'is not valid';
    let hint: string | undefined;
    if (e.keyword === 'required') {
      path = `${path}/${String(e.params['missingProperty'])}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      const name = String(e.params['additionalProperty']);
      path = `${path}/${name}`;
      message = 'is not a known property';
      const known = Object.keys((e.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {});
      hint = didYouMean(name, known);
    } else if (e.keyword === 'enum') {
      const allowed = e.params['allowedValues'] as unknown[];
      const guess = typeof e.data === 'string' ? didYouMean(e.data, allowed.filter((v): v is string => typeof v === 'string')) : undefined;
      hint = [guess, `allowed: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`].filter(Boolean).join('; ');
    }
    const detail: ErrorDetail = { path: path || '/', message };
    if (hint) detail.hint = hint;
    return detail;
  });
}
