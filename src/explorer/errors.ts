// Errors the API answers with. Every client mistake is an HTTP 400 with
// `{"error":{"message":"...","param":"..."}}` (param names the offending field, or is null).
import { NonFiniteLogitsError } from '../model/non-finite.js';
import type { ApiErrorBody } from './types.js';

/** A bad request: the message is shown to the person, `param` names the field at fault. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly param: string | null = null,
    readonly status: number = 400,
  ) {
    super(message);
  }
}

/** The JSON body of an error response. */
export type ErrorBody = ApiErrorBody;

export function errorBody(err: ApiError): ErrorBody {
  return { error: { message: err.message, param: err.param } };
}

/** Thrown into a job whose client went away (or that waited in the queue when its client left). */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('the request was cancelled');
  }
}

/**
 * The ApiError a failed job answers with, over either transport: a client mistake as it is; a model with broken
 * weights says so as it is (500); anything else is a failure of this side (500), `streamed` once events had gone out.
 */
export function jobFailure(err: unknown, streamed: boolean): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NonFiniteLogitsError) return new ApiError(message, null, 500);
  return new ApiError(streamed ? `generation failed: ${message}` : `internal error: ${message}`, null, 500);
}
