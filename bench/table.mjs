// A plain-text table for the benches' output: columns padded to their widest cell.
export function printTable(rows, log = console.log) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  for (const r of rows) log(r.map((v, c) => String(v ?? '').padEnd(widths[c])).join(' | '));
}
