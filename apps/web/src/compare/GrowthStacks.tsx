import type { StackChange } from '../lib/api';
import { formatBytes } from '../lib/units';

const signed = (v: number) => (v > 0 ? `+${formatBytes(v, 1)}` : v < 0 ? `−${formatBytes(-v, 1)}` : '±0');

/**
 * For the selected moment of both runs: the call paths whose memory growth differs most, each with
 * its leaf function, the path it was called by (on hover) and both runs' growth.
 */
export function GrowthStacks({ stacks, count }: { stacks: StackChange[]; count: number }) {
  if (stacks.length === 0) return <p class="dim">No memory growth in this range on either side.</p>;
  return (
    <table class="data-table diff-table growth-stacks" data-testid="growth-stacks">
      <caption class="dim">
        Call paths whose memory growth differs most in the selected range ({stacks.length} of {count})
      </caption>
      <thead>
        <tr>
          <th>Call path (leaf last)</th>
          <th class="num">base growth</th>
          <th class="num">target growth</th>
          <th class="num">Δ</th>
        </tr>
      </thead>
      <tbody>
        {stacks.map((s, i) => {
          const leaf = s.stack.at(-1);
          const caller = s.stack.at(-2);
          const path = `${s.depth > s.stack.length ? '… → ' : ''}${s.stack.map((f) => f.name || '<anonymous>').join(' → ')}`;
          return (
            <tr key={i} class={s.added ? 'added' : s.removed ? 'removed' : ''} title={path}>
              <td>
                <span class="dim">{caller ? `${caller.name || '<anonymous>'} → ` : ''}</span>
                <span class="fn-name">{leaf?.name || '<anonymous>'}</span>
                {s.added && <span class="badge added">added</span>}
                {s.removed && <span class="badge removed">removed</span>}
                <span class="dim file">
                  {' '}
                  {leaf?.file}
                  {leaf && leaf.line > 0 ? `:${leaf.line}` : ''}
                </span>
              </td>
              <td class="num">{formatBytes(s.base, 1)}</td>
              <td class="num">{formatBytes(s.target, 1)}</td>
              <td class={`num ${s.delta > 0 ? 'slower' : s.delta < 0 ? 'faster' : ''}`}>{signed(s.delta)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
