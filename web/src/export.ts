// Share and keep: each view's data as the API answered it (JSON), and its drawing as SVG or PNG. Views that own
// their requests (beam search, Compare, the walk) publish their data here; the page's Export buttons read it.
import { useEffect } from 'preact/hooks';

const published = new Map<string, unknown>();
const listeners = new Set<() => void>();

/** Makes `data` the exported JSON of `view` (null: nothing to export yet). */
export function publishExport(view: string, data: unknown): void {
  if (data === null || data === undefined) published.delete(view);
  else published.set(view, data);
  for (const l of listeners) l();
}

/** The data `view` published, or null. */
export function publishedExport(view: string): unknown {
  return published.get(view) ?? null;
}

/** Calls `listener` whenever a view publishes; returns the unsubscribe function. */
export function onPublish(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A component's hook: publish `data` for `view` while it is current. */
export function usePublishExport(view: string, data: unknown): void {
  useEffect(() => publishExport(view, data), [view, data]);
  useEffect(() => () => publishExport(view, null), [view]);
}

function save(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Saves `data` (the API's own JSON) as a file. */
export function downloadJson(name: string, data: unknown): void {
  save(name, new Blob([JSON.stringify(data, null, 1)], { type: 'application/json' }));
}

// the presentation properties the page's CSS sets on its drawings; a saved SVG carries them inline
const STYLE_PROPS = ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-opacity', 'stroke-linejoin', 'paint-order', 'opacity', 'font-family', 'font-size', 'font-weight', 'text-anchor'] as const;

/** A standalone copy of `svg`: the page's styles inline, its natural size, a white background. */
export function standaloneSvg(svg: SVGSVGElement): { text: string; width: number; height: number } {
  const vb = svg.viewBox.baseVal;
  const width = Math.ceil(vb && vb.width ? vb.width : svg.getBoundingClientRect().width);
  const height = Math.ceil(vb && vb.height ? vb.height : svg.getBoundingClientRect().height);
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const from = [svg, ...svg.querySelectorAll('*')];
  const to = [copy, ...copy.querySelectorAll('*')];
  from.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const style = STYLE_PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(';');
    to[i]!.setAttribute('style', style);
  });
  // (XMLSerializer writes the SVG namespace itself: setting xmlns too would write it twice, an invalid file)
  copy.setAttribute('width', String(width));
  copy.setAttribute('height', String(height));
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', '#fff');
  copy.insertBefore(bg, copy.firstChild);
  return { text: new XMLSerializer().serializeToString(copy), width, height };
}

export function downloadSvg(name: string, svg: SVGSVGElement): void {
  save(name, new Blob([standaloneSvg(svg).text], { type: 'image/svg+xml' }));
}

/** Draws the standalone SVG on a canvas (twice its size, for sharp text) and saves it as PNG. */
export async function downloadPng(name: string, svg: SVGSVGElement): Promise<void> {
  const { text, width, height } = standaloneSvg(svg);
  // a data: URL, as the server's Content-Security-Policy allows images from 'self' and data: only (no blob:)
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  const img = new Image();
  await new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('the drawing could not be rendered as an image'));
    img.src = url;
  });
  const canvas = document.createElement('canvas');
  canvas.width = width * 2;
  canvas.height = height * 2;
  const ctx = canvas.getContext('2d')!;
  ctx.scale(2, 2);
  ctx.drawImage(img, 0, 0, width, height);
  const png = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!png) throw new Error('the canvas could not be saved as PNG');
  save(name, png);
}
