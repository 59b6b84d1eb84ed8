import express, { type RequestHandler } from 'express';
import multer from 'multer';
import { MeterhubError } from '@meterhub/sdk';
import type { BodyParsers } from './route-table.js';

/**
 * A form parser whose failures (a file, too many fields, a cut-off multipart
 * body) are the client's: 400 naming the body; a body over the limit stays 413.
 */
function formFields(parse: RequestHandler): RequestHandler {
  return (req, res, next) => parse(req, res, (err?: unknown) => {
    if (err === undefined || err === null || (err as { type?: string }).type === 'entity.too.large') next(err);
    else next(new MeterhubError('METERHUB_ERR_VALIDATION', 'the form body is not valid', { details: [{ path: '/', message: String((err as Error).message ?? 'is not a valid form') }] }));
  });
}

/**
 * How request bodies are read: JSON everywhere; on routes that take forms
 * (the token endpoints, as DRF's default parsers do) also
 * `application/x-www-form-urlencoded` (express) and `multipart/form-data`
 * fields (multer, over busboy). Files in a form are refused.
 */
export function bodyParsers(limit: string): BodyParsers {
  return {
    json: express.json({ limit, strict: false }),
    forms: [
      formFields(express.urlencoded({ extended: false, limit, parameterLimit: 100 })),
      formFields(multer({ limits: { fields: 100, fieldSize: 64 * 1024, files: 0, parts: 100 } }).none()),
    ],
  };
}
