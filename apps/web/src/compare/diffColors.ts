// Colours of a differential view: red where the target spends a larger share (slower), blue where
// it spends less (faster), grey for no change; the strength saturates at the legend's scale.

/** `change` in the view's unit; `scale` the change drawn at full strength (the legend's end). */
export function diffColor(change: number, scale: number, dark: boolean): string {
  const t = scale > 0 ? Math.max(-1, Math.min(1, change / scale)) : 0;
  const a = Math.abs(t);
  const hue = t >= 0 ? 0 : 218;
  const sat = Math.round(10 + a * 70);
  const light = Math.round(dark ? 32 + a * 14 : 86 - a * 30);
  return `hsl(${hue} ${sat}% ${light}%)`;
}

/** The legend's stops, faster to slower. */
export function legendGradient(dark: boolean): string {
  const stops = [-1, -0.5, 0, 0.5, 1].map((t) => diffColor(t, 1, dark));
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
