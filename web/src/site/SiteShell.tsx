// The static site's frame around the explorer: where the weights come from (a Hub repo, the visitor's own files,
// or random:gpt2), the download's progress and cancel, what the browser's cache holds, what the model costs in
// memory, and whether threads are on. Once a model is loaded in its Web Worker, the explorer (App) talks to it.
// The URL carries `model` (a repo id or a random: spec) and `endpoint` (the Hub's address); the other query
// parameters belong to the explorer and are left as they are.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EngineDType } from '../../../src/engine/engine.ts';
import { setApi } from '../api.ts';
import { App } from '../app.tsx';
import { DEFAULT_ENDPOINT, DEFAULT_REPO, deleteCached, listCached, normalizeEndpoint, type CachedModel, type DownloadProgress } from './hub-browser.ts';
import { ensureIsolation, threadsFor, type Isolation } from './isolation.ts';
import { loadModel, type Loaded, type ModelChoice } from './loader.ts';

const RANDOM_SPEC = /^random:/;

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(0)} KiB`;
  return `${n} B`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '…';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The `model` and `endpoint` of the page's URL (defaults when absent). */
function fromUrl(): { model: string | null; endpoint: string } {
  const q = new URLSearchParams(location.search);
  return { model: q.get('model'), endpoint: q.get('endpoint') ?? DEFAULT_ENDPOINT };
}

/** Writes `model` and `endpoint` into the URL (endpoint only when not the default), keeping every other parameter. */
function toUrl(model: string | null, endpoint: string): void {
  const url = new URL(location.href);
  if (model) url.searchParams.set('model', model);
  else url.searchParams.delete('model');
  if (endpoint !== DEFAULT_ENDPOINT) url.searchParams.set('endpoint', endpoint);
  else url.searchParams.delete('endpoint');
  history.replaceState(history.state, '', url);
}

/** What a dtype costs per parameter in the engine. */
const DTYPE_BYTES: Record<EngineDType, number> = { fp32: 4, fp16: 2, int8: 1 };

type Phase = { kind: 'choose' } | { kind: 'loading'; what: string; progress: DownloadProgress | null } | { kind: 'ready'; loaded: Loaded; what: string; ms: number } | { kind: 'error'; message: string };

export function SiteShell() {
  const initial = fromUrl();
  const [isolation, setIsolation] = useState<Isolation | null>(null);
  const [repo, setRepo] = useState(initial.model && !RANDOM_SPEC.test(initial.model) ? initial.model : DEFAULT_REPO);
  const [endpoint, setEndpoint] = useState(initial.endpoint);
  const [dtype, setDtype] = useState<EngineDType>('fp32');
  const [phase, setPhase] = useState<Phase>({ kind: 'choose' });
  const [cached, setCached] = useState<CachedModel[]>([]);
  const [generation, setGeneration] = useState(0);
  const [dragging, setDragging] = useState(false);
  const cancel = useRef<AbortController | null>(null);
  const current = useRef<Loaded | null>(null);

  const refreshCache = (): void => void listCached().then(setCached, () => setCached([]));

  useEffect(() => {
    void ensureIsolation().then((iso) => {
      setIsolation(iso);
      refreshCache();
      if (!initial.model) return;
      try {
        void start(RANDOM_SPEC.test(initial.model) ? { kind: 'random', spec: initial.model } : hubChoice(initial.model, initial.endpoint), iso);
      } catch (err) {
        setPhase({ kind: 'error', message: err instanceof Error ? err.message : String(err) }); // a bad endpoint in the URL
      }
    });
  }, []);

  function hubChoice(id: string, ep: string): ModelChoice {
    return { kind: 'hub', src: { endpoint: normalizeEndpoint(ep), repo: id.trim(), revision: 'main' } };
  }

  async function start(choice: ModelChoice, iso = isolation): Promise<void> {
    if (!iso) return;
    cancel.current?.abort();
    const ctrl = new AbortController();
    cancel.current = ctrl;
    delete document.body.dataset.ready;
    const what = choice.kind === 'hub' ? choice.src.repo : choice.kind === 'random' ? choice.spec : 'your files';
    if (choice.kind === 'hub') toUrl(choice.src.repo, choice.src.endpoint);
    else if (choice.kind === 'random') toUrl(choice.spec, endpoint);
    else toUrl(null, endpoint);
    setPhase({ kind: 'loading', what, progress: null });
    const t0 = performance.now();
    try {
      const loaded = await loadModel(choice, { dtype, threads: threadsFor(iso) }, (p) => setPhase({ kind: 'loading', what, progress: p }), ctrl.signal);
      if (ctrl.signal.aborted) {
        loaded.worker.terminate();
        return;
      }
      current.current?.worker.terminate();
      current.current = loaded;
      setApi(loaded.client);
      setGeneration((g) => g + 1);
      setPhase({ kind: 'ready', loaded, what, ms: performance.now() - t0 });
    } catch (err) {
      if (ctrl.signal.aborted) setPhase({ kind: 'choose' });
      else setPhase({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    } finally {
      refreshCache();
    }
  }

  function submitHub(e: Event): void {
    e.preventDefault();
    try {
      void start(hubChoice(repo, endpoint));
    } catch (err) {
      setPhase({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }

  function pickFiles(list: FileList | null): void {
    if (list && list.length) void start({ kind: 'files', files: Array.from(list) });
  }

  const loading = phase.kind === 'loading';
  const p = loading ? phase.progress : null;
  const ready = phase.kind === 'ready' ? phase : null;
  const threads = isolation ? threadsFor(isolation) : 1;

  return (
    <div class="site">
      <section class="source" aria-label="Model" data-phase={phase.kind}>
        <form class="source-row" onSubmit={submitHub}>
          <label>
            Hub model <input id="model-repo" value={repo} spellcheck={false} size={28} onInput={(e) => setRepo((e.target as HTMLInputElement).value)} disabled={loading} />
          </label>
          <label>
            Hub address <input id="model-endpoint" value={endpoint} spellcheck={false} size={26} onInput={(e) => setEndpoint((e.target as HTMLInputElement).value)} disabled={loading} />
          </label>
          <label>
            weights as{' '}
            <select id="model-dtype" value={dtype} onChange={(e) => setDtype((e.target as HTMLSelectElement).value as EngineDType)} disabled={loading}>
              <option value="fp32">fp32 (exact)</option>
              <option value="fp16">fp16 (½ the memory)</option>
              <option value="int8">int8 (¼ the memory)</option>
            </select>
          </label>
          <button type="submit" id="model-load" disabled={loading || !isolation}>
            Load
          </button>
          <button type="button" id="model-random" disabled={loading || !isolation} onClick={() => void start({ kind: 'random', spec: 'random:gpt2' })}>
            random:gpt2 (no download)
          </button>
          <label
            class={`drop${dragging ? ' over' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={(e) => {
              e.preventDefault();
              setDragging(false);
              pickFiles(e.dataTransfer?.files ?? null);
            }}
          >
            or your files{' '}
            <input id="model-files" type="file" multiple accept=".json,.safetensors,.txt" disabled={loading || !isolation} onChange={(e) => pickFiles((e.target as HTMLInputElement).files)} />
            <span class="hint-small">config.json, model.safetensors, vocab.json + merges.txt: read here, never uploaded</span>
          </label>
        </form>
        <p class="hint-small" id="memory-cost">
          Memory: GPT-2 124M takes {formatBytes(124_439_808 * DTYPE_BYTES[dtype])} in the engine as {dtype}
          {dtype === 'fp32' ? '' : `, vs ${formatBytes(124_439_808 * 4)} as fp32`}. The download (
          {formatBytes(548_105_171)}) streams into this browser's cache, on disk, and is read from there piece by piece: the page never holds the file
          in memory. It is kept for the next visit.
        </p>
        {isolation?.note && (
          <p class="note" role="note" id="threads-note">
            {isolation.note}
          </p>
        )}
        {loading && (
          <div class="progress" role="status" id="download-status">
            <span>Loading {phase.what}…</span>
            {p && (
              <>
                <progress id="download-progress" max={p.total} value={p.loaded} />
                <span id="download-text">
                  {formatBytes(p.loaded)} of {formatBytes(p.total)} · {p.file} · {formatBytes(p.bytesPerSecond)}/s · {p.secondsLeft === null ? 'time left …' : `${formatSeconds(p.secondsLeft)} left`}
                  {p.resumedFrom > 0 && ` · resumed at ${formatBytes(p.resumedFrom)}`}
                </span>
              </>
            )}
            <button type="button" id="download-cancel" onClick={() => cancel.current?.abort(new DOMException('the download was cancelled', 'AbortError'))}>
              Cancel
            </button>
          </div>
        )}
        {phase.kind === 'error' && (
          <p class="error" role="alert" id="load-error">
            {phase.message}
          </p>
        )}
        {ready && (
          <p class="loaded" id="model-loaded">
            <strong>{ready.what}</strong>
            {ready.loaded.commit && <> @ {ready.loaded.commit.slice(0, 10)}</>} · {ready.loaded.fromCache ? 'from this browser\'s cache' : ready.loaded.fileBytes ? 'downloaded' : 'made here'} in{' '}
            {(ready.ms / 1000).toFixed(1)} s · {ready.loaded.client.runtime?.backend ?? 'reference'}
            {ready.loaded.client.runtime && ready.loaded.client.runtime.engineBytes > 0 && (
              <span id="model-memory">
                {' '}
                · in memory: {formatBytes(ready.loaded.client.runtime.memoryBytes)} of engine ({formatBytes(ready.loaded.client.runtime.engineBytes)} of weights)
              </span>
            )}
            {threads > 1 && ` · ${threads} threads`}
            {ready.loaded.note && <span class="note"> {ready.loaded.note}</span>}
          </p>
        )}
        {cached.length > 0 && (
          <details class="cached" id="cache-list">
            <summary>Kept in this browser: {formatBytes(cached.reduce((s, c) => s + c.bytes + c.partialBytes, 0))}</summary>
            <ul>
              {cached.map((c) => (
                <li key={`${c.endpoint} ${c.repo} ${c.commit}`} data-repo={c.repo}>
                  {c.repo} {c.commit ? `@ ${c.commit.slice(0, 10)}` : '(unfinished download)'} from {c.endpoint}: {formatBytes(c.bytes)}
                  {c.partialBytes > 0 && ` + ${formatBytes(c.partialBytes)} unfinished`}{' '}
                  <button type="button" class="cache-delete" onClick={() => void deleteCached(c.endpoint, c.repo).then(refreshCache)}>
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          </details>
        )}
        {dragging && <div class="drop-veil" aria-hidden="true" />}
      </section>
      {ready ? (
        <App key={generation} />
      ) : (
        phase.kind === 'choose' && (
          <main class="app">
            <p class="hint">
              Choose a model above: a Hugging Face repo downloaded by this browser (about 550 MB for GPT-2, kept for the next visit), your own files, or
              random:gpt2 to try the page with no download. Everything runs on this machine; nothing is sent anywhere.
            </p>
          </main>
        )
      )}
    </div>
  );
}
