import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ParleyError, isParleyError } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';

/** Every error leaves as `{ error: { code, message } }` with the code's HTTP status. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let parley: ParleyError;
    if (isParleyError(error)) {
      parley = error;
    } else if (isBodyParserError(error)) {
      parley = new ParleyError('bad_request', error.type);
    } else {
      logger.error({ err: error, path: req.path }, 'unhandled error in HTTP handler');
      parley = new ParleyError('internal');
    }
    if (res.headersSent) return;
    res.status(parley.httpStatus).json(parley.toJSON());
  };
}

function isBodyParserError(error: unknown): error is { type: string; status: number } {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { type?: unknown }).type === 'string' &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json(new ParleyError('not_found').toJSON());
};
