// Errors the API answers with. Every client mistake is an HTTP 400 with
// `{"error":{"message":"...","param":"..."}}` (param names the offending field, or is null).

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
export interface ErrorBody {
  error: { message: string; param: string | null };
}

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
