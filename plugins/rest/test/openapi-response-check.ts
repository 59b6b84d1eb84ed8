import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Doc = { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>; components: { responses: Record<string, unknown> } };

const DOC_ID = 'https://meterhub.invalid/openapi.json';
const pointer = (parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Checks answers against the OpenAPI document the server publishes: the
 * status must be documented for the operation (or fall under `default`), and
 * a JSON body must match the documented schema (AJV, JSON Schema 2020-12 as
 * OpenAPI 3.1 uses). Every REST test's requests go through RestRig.request,
 * which calls this, so the code and the document cannot drift.
 */
export class OpenApiResponseCheck {
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  readonly #compiled = new Map<string, ValidateFunction>();
  readonly #templates: Array<{ template: string; regex: RegExp; literal: number }>;
  checked = 0;

  constructor(private readonly doc: Doc) {
    addFormats(this.#ajv);
    this.#ajv.addSchema({ ...doc, $id: DOC_ID } as object);
    // Literal paths before templated ones: /api/meters/{id}/ must not take /api/meters/house/power/latest/.
    this.#templates = Object.keys(doc.paths).map((template) => ({
      template,
      regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      literal: template.replace(/\{[^}]+\}/g, '').length,
    })).sort((a, b) => b.literal - a.literal);
  }

  /** Throws a readable error when the answer is not what the document says. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
    const path = url.split('?', 1)[0]!;
    const match = this.#templates.find((t) => t.regex.test(path));
    const op = match ? this.doc.paths[match.template]![method.toLowerCase()] : undefined;
    let responsePointer: string[];
    if (!op) {
      // Unknown paths and methods answer with the shared error body.
      if (status < 400) return;
      responsePointer = ['components', 'responses', 'Error'];
    } else {
      const key = op.responses?.[String(status)] !== undefined ? String(status) : status >= 400 && op.responses?.['default'] ? 'default' : undefined;
      if (!key) throw new Error(`${method} ${path} answered ${status}, which the OpenAPI document does not list for ${method.toLowerCase()} ${match!.template}`);
      responsePointer = ['paths', match!.template, method.toLowerCase(), 'responses', key];
    }
    let response = this.#at(responsePointer) as { $ref?: string; content?: Record<string, unknown> };
    if (response.$ref) {
      responsePointer = response.$ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      response = this.#at(responsePointer) as typeof response;
    }
    if (!contentType?.startsWith('application/json') || body === undefined) return;
    if (!response.content?.['application/json']) throw new Error(`${method} ${path} ${status}: the document lists no JSON body for this answer`);
    const ref = `${DOC_ID}#/${pointer([...responsePointer, 'content', 'application/json', 'schema'])}`;
    let validate = this.#compiled.get(ref);
    if (!validate) this.#compiled.set(ref, (validate = this.#ajv.compile({ $ref: ref })));
    if (!validate(body)) {
      throw new Error(`${method} ${path} ${status}: the answer does not match the documented schema: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 300)}`);
    }
    this.checked++;
  }

  #at(parts: string[]): unknown {
    let node: unknown = this.doc;
    for (const p of parts) node = (node as Record<string, unknown> | undefined)?.[p];
    if (node === undefined) throw new Error(`the OpenAPI document has nothing at /${parts.join('/')}`);
    return node;
  }
}
