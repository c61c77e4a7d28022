// Build-time definitions of web/vite.config.ts, and Vite's `?url` imports (a file emitted next to the page).
declare const __GPT2_LENS_SITE__: boolean;
declare module '*?url' {
  const url: string;
  export default url;
}
