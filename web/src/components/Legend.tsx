// A colour legend: a gradient from 0 to 1 with the scale it uses said in words (the attention heatmap colours
// √weight, so that small weights stay visible; the lens colours the probability itself).
import { percent } from '../format.ts';

export function Legend({ color, scale, label, id }: { color: (t: number) => string; scale: 'linear' | 'sqrt'; label: string; id: string }) {
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  // the bar is drawn in colour space; each tick says which value sits there
  const ticks = [0, 0.5, 1].map((x) => ({ x, value: scale === 'sqrt' ? x * x : x }));
  return (
    <p class="legend" id={id} data-scale={scale}>
      {label}: {percent(ticks[0]!.value)}
      <span class="legend-bar" style={{ background: `linear-gradient(to right, ${stops.map((t) => color(t)).join(', ')})` }} />
      {percent(ticks[2]!.value)} · middle = {percent(ticks[1]!.value)}
      {scale === 'sqrt' ? ' (colour ∝ √weight, so small weights stay visible)' : ' (colour ∝ probability)'}
    </p>
  );
}
