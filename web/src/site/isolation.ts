// Cross-origin isolation for the static site: the engine's threads share one SharedArrayBuffer, which a browser
// gives only to a page served with COOP: same-origin and COEP: require-corp. Hosts that send them (gpt2-lens serve,
// a configured server) need nothing; elsewhere the page registers coi-sw.js (site/coi-sw.js), a service worker that
// adds the headers, and reloads once under it. If that cannot work (no service worker: a private window, file://,
// plain http on a remote host), the page runs on one thread and says so.

/** How the page stands: isolated (threads possible), or why not. */
export interface Isolation {
  isolated: boolean;
  /** why the page runs on one thread, for the note on the page; null when isolated */
  note: string | null;
}

const RELOADED = 'gpt2-lens-coi-reloaded';

/**
 * Resolves once the page is isolated, or isolation is known to be impossible. May reload the page once (the
 * promise then never resolves: the new page takes over).
 */
export async function ensureIsolation(): Promise<Isolation> {
  if (globalThis.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return { isolated: true, note: null };
  }
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    return { isolated: false, note: 'This page is not cross-origin isolated and cannot install its service worker here (it needs https or localhost), so the model runs on one thread.' };
  }
  try {
    const reg = await navigator.serviceWorker.register(new URL('coi-sw.js', document.baseURI).href, { scope: './' });
    await navigator.serviceWorker.ready;
    if (sessionStorage.getItem(RELOADED) !== '1') {
      sessionStorage.setItem(RELOADED, '1');
      // the page was loaded before the worker controlled it: load it again through the worker
      if (!navigator.serviceWorker.controller) await new Promise<void>((r) => navigator.serviceWorker.addEventListener('controllerchange', () => r(), { once: true }));
      location.reload();
      return new Promise<Isolation>(() => undefined);
    }
    void reg;
  } catch (err) {
    return { isolated: false, note: `The service worker that would make this page cross-origin isolated could not start (${err instanceof Error ? err.message : String(err)}), so the model runs on one thread.` };
  }
  return { isolated: false, note: 'This page could not be made cross-origin isolated (the browser refused SharedArrayBuffer even under the service worker), so the model runs on one thread.' };
}

/** The engine's thread count here: up to 4 of the machine's cores when isolated, else 1. */
export function threadsFor(isolation: Isolation): number {
  if (!isolation.isolated) return 1;
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}
