// The API's wire types live in the browser-safe core (src/explorer/types.ts), shared by both transports.
export type * from '../explorer/types.js';
