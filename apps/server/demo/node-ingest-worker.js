// A small Node workload for the demo memory profile, recorded with
//   prof run --project ingest-worker --name ingest_batches -- node node-ingest-worker.js
// It parses batches of JSON events, keeps an index that only grows (the slow leak a long job dies
// of), and every few batches builds a large report in memory and drops it again (the spikes).
const index = new Map();
const retained = [];

function makeBatch(seq, n) {
  const events = [];
  for (let i = 0; i < n; i++) {
    events.push({
      id: `${seq}-${i}`,
      user: `u${(seq * 31 + i) % 5000}`,
      kind: ['view', 'click', 'buy'][i % 3],
      at: seq * 1000 + i,
      payload: 'x'.repeat(40 + (i % 60)),
    });
  }
  return JSON.stringify(events);
}

function parseBatch(text) {
  return JSON.parse(text);
}

function indexEvents(events) {
  for (const e of events) {
    let list = index.get(e.user);
    if (!list) index.set(e.user, (list = []));
    list.push(e.id); // never trimmed: the index grows with every batch
  }
  if (events.length) retained.push(events[events.length - 1]);
}

function buildReport() {
  // A transient spike: every user's history rendered into one big array of strings, then dropped.
  const rows = [];
  for (const [user, ids] of index) rows.push(`${user}: ${ids.join(',')}`);
  return rows.join('\n').length;
}

function scoreUsers() {
  let best = 0;
  for (const ids of index.values()) best = Math.max(best, ids.length * Math.sqrt(ids.length));
  return best;
}

const end = Date.now() + 9000;
let seq = 0;
let reportBytes = 0;
while (Date.now() < end) {
  const events = parseBatch(makeBatch(seq, 4000));
  indexEvents(events);
  if (seq % 12 === 11) reportBytes += buildReport();
  scoreUsers();
  seq++;
}
console.log('batches', seq, 'users', index.size, 'report bytes', reportBytes);
