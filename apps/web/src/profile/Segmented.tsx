/** A row of toggle buttons for one choice of the view (its value lives in the URL). */
export function Segmented(props: {
  label: string;
  value: string;
  options: [string, string][];
  onChange(v: string): void;
}) {
  return (
    <div class="segmented" role="group" aria-label={props.label}>
      <span class="seg-label">{props.label}</span>
      {props.options.map(([v, text]) => (
        <button
          type="button"
          key={v}
          class={`seg ${v === props.value ? 'on' : ''}`}
          aria-pressed={v === props.value}
          onClick={() => props.onChange(v)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}
