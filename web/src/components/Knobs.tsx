// The sampling knobs: a slider for moving and a typed field for an exact value (the API's range; out-of-range values
// go to the server, whose error shows under the field). Each one is a Hugging Face logits processor or warper; "off" is its neutral value.
import { useEffect, useState } from 'preact/hooks';
import type { Knobs as KnobValues } from '../api.ts';

export interface KnobState {
  temperature: number;
  top_k: number;
  top_p: number;
  repetition_penalty: number;
}

export const DEFAULT_KNOBS: KnobState = { temperature: 1, top_k: 0, top_p: 1, repetition_penalty: 1 };

/** The knobs as API fields: neutral values are left out. */
export function knobFields(k: KnobState): KnobValues {
  const out: KnobValues = {};
  // a value the API rejects is sent as it is (NaN as a string), so the server's error names the field
  const bad = (v: number): boolean => !Number.isFinite(v);
  const send = (v: number): number => (bad(v) ? (String(v) as unknown as number) : v);
  if (k.temperature !== 1) out.temperature = send(k.temperature);
  if (k.top_k !== 0) out.top_k = send(k.top_k);
  if (k.top_p !== 1) out.top_p = send(k.top_p);
  if (k.repetition_penalty !== 1) out.repetition_penalty = send(k.repetition_penalty);
  return out;
}

interface KnobDef {
  key: keyof KnobState;
  label: string;
  min: number;
  max: number;
  step: number;
  help: string;
  show: (v: number) => string;
}

const DEFS: KnobDef[] = [
  {
    key: 'temperature',
    label: 'Temperature',
    min: 0.05,
    max: 3,
    step: 0.05,
    help: 'Divides the logits: below 1 sharpens the distribution, above 1 flattens it.',
    show: (v) => v.toFixed(2),
  },
  {
    key: 'top_k',
    label: 'Top-k',
    min: 0,
    max: 100,
    step: 1,
    help: 'Keeps only the k most likely tokens (0 = off).',
    show: (v) => (v === 0 ? 'off' : String(v)),
  },
  {
    key: 'top_p',
    label: 'Top-p',
    min: 0.05,
    max: 1,
    step: 0.01,
    help: 'Keeps the smallest set of likely tokens whose probabilities add up to p (1 = off).',
    show: (v) => (v >= 1 ? 'off' : v.toFixed(2)),
  },
  {
    key: 'repetition_penalty',
    label: 'Repetition penalty',
    min: 1,
    max: 3,
    step: 0.05,
    help: 'Makes every token already in the text less likely (1 = off).',
    show: (v) => (v === 1 ? 'off' : v.toFixed(2)),
  },
];

/**
 * A typed field for an exact value. It keeps what the person typed ("0." on the way to "0.3") and follows the slider
 * when the value changes elsewhere; an empty or unparsable field is sent as NaN, so the server says what it wants.
 */
function ExactField({ id, label, value, onValue }: { id: string; label: string; value: number; onValue: (v: number) => void }) {
  const [text, setText] = useState(String(value));
  const parsed = text.trim() === '' ? NaN : Number(text);
  useEffect(() => {
    if (!Object.is(parsed, value)) setText(Number.isNaN(value) ? '' : String(value));
  }, [value]);
  return (
    <input
      type="number"
      class="knob-exact"
      id={id}
      aria-label={label}
      step="any"
      value={text}
      onInput={(e) => {
        const raw = (e.target as HTMLInputElement).value;
        setText(raw);
        onValue(raw.trim() === '' ? NaN : Number(raw));
      }}
    />
  );
}

/** `error`: the API's error for one of the knobs (its `param`), shown under that field. */
export function Knobs({ value, onChange, error }: { value: KnobState; onChange: (k: KnobState) => void; error?: { param: string | null; message: string } | null }) {
  return (
    <fieldset class="knobs">
      <legend>Sampling knobs</legend>
      {DEFS.map((d) => (
        <label class="knob" key={d.key} title={d.help}>
          <span class="knob-label">
            {d.label} <output id={`knob-${d.key}-value`}>{d.show(value[d.key])}</output>
          </span>
          <input
            type="range"
            id={`knob-${d.key}`}
            name={d.key}
            min={d.min}
            max={d.max}
            step={d.step}
            value={value[d.key]}
            aria-describedby={`knob-${d.key}-help`}
            onInput={(e) => onChange({ ...value, [d.key]: Number((e.target as HTMLInputElement).value) })}
          />
          <ExactField id={`knob-${d.key}-exact`} label={`${d.label}, exact value`} value={value[d.key]} onValue={(v) => onChange({ ...value, [d.key]: v })} />
          {error && error.param === d.key && (
            <span class="field-error" role="alert" id={`knob-${d.key}-error`}>
              {error.message}
            </span>
          )}
          <span class="knob-help" id={`knob-${d.key}-help`}>
            {d.help}
          </span>
        </label>
      ))}
      <button type="button" class="link" onClick={() => onChange(DEFAULT_KNOBS)}>
        Reset knobs
      </button>
    </fieldset>
  );
}
