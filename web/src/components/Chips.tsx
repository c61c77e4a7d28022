// The prompt as GPT-2 sees it: one chip per token. Hover (or focus) a chip for its id and bytes; generated tokens
// are coloured by the probability they were chosen with, and list the alternatives the model weighed.
import { useState } from 'preact/hooks';
import type { LensEntry } from '../api.ts';
import { hexBytes, isPartialCharacter, percent, probColor, visible } from '../format.ts';

export interface Chip {
  id: number;
  text: string;
  /** raw bytes (prompt tokens); a token holding part of a character is marked */
  bytes?: number[];
  /** prompt tokens: the span of the prompt they cover (UTF-16 units) */
  start?: number;
  end?: number;
  /** generated tokens: the probability it was chosen with, and the alternatives */
  prob?: number;
  alternatives?: LensEntry[];
}

/**
 * `onPick(i)`: the person clicked (or pressed Enter on) chip i. The row is one tab stop (a roving tabindex): arrows,
 * Home and End move between chips; a tap or focus opens a chip's details, so nothing needs hover.
 */
export function Chips({ chips, label, onPick }: { chips: Chip[]; label: string; onPick?: (i: number) => void }) {
  const [open, setOpen] = useState<number | null>(null);
  const [current, setCurrent] = useState(0);
  const stop = Math.min(current, Math.max(0, chips.length - 1));
  const move = (el: HTMLElement, to: number): void => {
    const next = Math.max(0, Math.min(chips.length - 1, to));
    setCurrent(next);
    (el.parentElement?.children[next] as HTMLElement | undefined)?.focus();
  };
  if (chips.length === 0) return <div class="chips empty">No tokens yet: type a prompt.</div>;
  return (
    <div class="chips" role="list" aria-label={label}>
      {chips.map((c, i) => {
        const partial = c.bytes ? isPartialCharacter(c.bytes) : c.text.includes('\uFFFD');
        const generated = c.prob !== undefined;
        const title =
          `id ${c.id}` +
          (c.bytes ? ` · bytes ${hexBytes(c.bytes)}` : '') +
          (partial ? ' · part of a character' : '') +
          (generated ? ` · chosen with p = ${percent(c.prob!)}` : '');
        return (
          <span
            key={i}
            role="listitem"
            tabIndex={i === stop ? 0 : -1}
            class={`chip${partial ? ' partial' : ''}${generated ? ' generated' : ''}`}
            style={generated ? { background: probColor(c.prob!) } : undefined}
            title={title}
            data-id={c.id}
            onMouseEnter={() => setOpen(i)}
            onMouseLeave={() => setOpen(null)}
            onFocus={() => {
              setOpen(i);
              setCurrent(i);
            }}
            onBlur={() => setOpen(null)}
            onClick={() => {
              onPick?.(i); // (may move the focus to the prompt box, which blurs the chip: open its details after)
              setOpen(i);
            }}
            onKeyDown={(e) => {
              const el = e.currentTarget as HTMLElement;
              if (e.key === 'Enter') onPick?.(i);
              else if (e.key === 'ArrowRight') move(el, i + 1);
              else if (e.key === 'ArrowLeft') move(el, i - 1);
              else if (e.key === 'Home') move(el, 0);
              else if (e.key === 'End') move(el, chips.length - 1);
              else return;
              e.preventDefault();
            }}
          >
            {partial && c.bytes ? <span class="bytes">{hexBytes(c.bytes)}</span> : visible(c.text)}
            {open === i && !generated && (
              <span class="popover" role="tooltip">
                <span class="popover-title">
                  id {c.id}
                  {c.bytes ? ` · bytes ${hexBytes(c.bytes)}` : ''}
                  {partial ? ' · part of a character' : ''}
                </span>
              </span>
            )}
            {open === i && generated && c.alternatives && (
              <span class="popover" role="tooltip">
                <span class="popover-title">
                  id {c.id} · p = {percent(c.prob!)}
                </span>
                {c.alternatives.map((a) => (
                  <span class={`alt${a.id === c.id ? ' chosen' : ''}`} key={a.id}>
                    <span class="alt-token">{visible(a.token)}</span>
                    <span class="alt-bar" style={{ width: `${Math.max(2, a.prob * 100)}%` }} />
                    <span class="alt-p">{percent(a.prob)}</span>
                  </span>
                ))}
              </span>
            )}
          </span>
        );
      })}
    </div>
  );
}
