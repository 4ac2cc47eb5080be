// A small Node workload for the demo CPU profile: parse, transform and serialise JSON records.
function makeRecords(n) {
  const out = [];
  for (let i = 0; i < n; i++)
    out.push({ id: i, name: 'item-' + i, tags: ['a', 'b', String(i % 7)], value: Math.sin(i) * 1000 });
  return out;
}
function transform(records) {
  return records.filter((r) => r.value > 0).map((r) => ({ ...r, score: Math.sqrt(r.value) * r.tags.length }));
}
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
function pipeline() {
  const text = JSON.stringify(makeRecords(20000));
  const parsed = JSON.parse(text);
  const result = transform(parsed);
  return result.length + fib(22);
}
const end = Date.now() + 2000;
let total = 0;
while (Date.now() < end) total += pipeline();
console.log('done', total);
