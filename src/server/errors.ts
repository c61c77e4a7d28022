// The API's errors live in the browser-safe core (src/explorer/errors.ts); the server's files import them from here.
export { ApiError, CancelledError, errorBody, jobFailure, type ErrorBody } from '../explorer/errors.js';
