// Whether this build is the static site (npm run build:site: the model runs in a Web Worker on this machine) or
// the page `gpt2-lens serve` serves (npm run build:web: the API is HTTP). Vite defines the flag (web/vite.config.ts).
export const IS_SITE: boolean = __GPT2_LENS_SITE__;
