// The operator dashboard: polls the server's /metrics (Prometheus text) and draws the phase
// funnel and the LLM retries and fallbacks by provider over time; beside it, the funnel of the
// conversations saved in this browser (the builder page's turns run here and never reach the
// server). Phases are named in words by the engine (pkg/kiln_web.js). Without `kiln serve`
// (plain static hosting) it says so, and asks for no metrics (a request that would fail).
import init, * as kiln from './pkg/kiln_web.js';
import { parse, sumBy } from './metrics.js';
import { apiKey, probe } from './server.js';

const COLORS = ['#b4441f', '#1f5fbf', '#1f7a45', '#8a5a00', '#7b3fa0', '#0f7c86', '#a3264d', '#555'];
const INTERVAL_MS = Number(new URLSearchParams(location.search).get('interval_ms')) || 5000;
const KEEP = 60;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
/** Snapshots of the counters: { t, retries: Map(provider -> total), fallbacks: Map(from -> total) }. */
const history = [];

function svg(tag, attrs, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text != null) n.textContent = text;
  return n;
}

function rows(table, data) {
  if (!data.length) {
    // An empty table would look broken: say there is nothing yet.
    const td = document.createElement('td');
    td.colSpan = $(table).tHead.rows[0].cells.length;
    td.className = 'muted';
    td.textContent = 'None yet.';
    const tr = document.createElement('tr');
    tr.className = 'none';
    tr.append(td);
    $(table).tBodies[0].replaceChildren(tr);
    return;
  }
  $(table).tBodies[0].replaceChildren(...data.map((cells) => {
    const tr = document.createElement('tr');
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = String(c);
      if (i === cells.length - 1) td.className = 'n';
      tr.append(td);
    });
    return tr;
  }));
}

/** The engine's phases in order, `[{ name, title }]` (set once it has loaded). */
let phases = [];

/**
 * Draws entries into each phase after IDLE (where sessions start) as bars in `id`; `empty`
 * explains an all-zero funnel instead of showing empty bars.
 */
function drawFunnel(id, into, emptyId, emptyText) {
  const bars = phases.slice(1).map((p) => [p, into.get(p.name) ?? 0]);
  const max = Math.max(1, ...bars.map(([, n]) => n));
  const w = 520; const row = 26; const left = 190;
  const box = $(id);
  const none = bars.every(([, n]) => n === 0);
  $(emptyId).hidden = !none;
  $(emptyId).textContent = emptyText;
  box.setAttribute('viewBox', `0 0 ${w} ${bars.length * row + 4}`);
  box.replaceChildren(...bars.flatMap(([p, n], i) => {
    const width = Math.max(1, ((w - left - 50) * n) / max);
    const bar = svg('rect', { class: id === 'funnel' ? 'bar' : 'bar local', x: left, y: i * row + 4, width, height: row - 8, rx: 3 });
    bar.dataset.phase = p.name;
    bar.dataset.value = String(n);
    return [svg('text', { x: 0, y: i * row + row / 2 + 4 }, p.title), bar, svg('text', { x: left + width + 6, y: i * row + row / 2 + 4 }, String(n))];
  }));
}

/** This browser's funnel: every saved session's transitions, counted by the phase entered. */
function drawLocal() {
  const into = new Map();
  let sessions = [];
  try {
    sessions = JSON.parse(kiln.listSessions());
    for (const s of sessions) {
      for (const h of JSON.parse(kiln.getSession(s.session_id)).history) into.set(h.to, (into.get(h.to) ?? 0) + 1);
    }
  } catch (e) {
    $('local-empty').hidden = false;
    $('local-empty').textContent = `The conversations saved in this browser could not be read: ${e.message}`;
    return;
  }
  drawFunnel('local-funnel', into, 'local-empty', 'No conversations saved in this browser yet: describe an agent on the builder page and its phases show here.');
  document.body.dataset.localSessions = String(sessions.length);
}

function drawSeries(id, legendId, key) {
  // Per-interval increases; a counter that went down (server restart) restarts from zero.
  const names = [...new Set(history.flatMap((h) => [...h[key].keys()]))].sort();
  const series = names.map((name) => history.slice(1).map((h, i) => {
    const now = h[key].get(name) ?? 0;
    const before = history[i][key].get(name) ?? 0;
    return now >= before ? now - before : now;
  }));
  const w = 480; const h = 160; const pad = 24;
  const max = Math.max(1, ...series.flat());
  const n = Math.max(1, history.length - 2);
  const box = $(id);
  box.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const nodes = [svg('line', { class: 'axis', x1: pad, y1: h - pad, x2: w, y2: h - pad }), svg('text', { x: 0, y: 12 }, String(max)), svg('text', { x: 0, y: h - pad }, '0')];
  series.forEach((values, s) => {
    const pts = values.map((v, i) => `${pad + ((w - pad) * i) / n},${h - pad - ((h - pad - 8) * v) / max}`).join(' ');
    const line = svg('polyline', { points: pts, fill: 'none', stroke: COLORS[s % COLORS.length], 'stroke-width': 2 });
    line.dataset.provider = names[s];
    line.dataset.values = values.join(',');
    nodes.push(line);
  });
  box.replaceChildren(...nodes);
  $(legendId).replaceChildren(...names.map((name, s) => {
    const span = document.createElement('span');
    span.style.setProperty('--c', COLORS[s % COLORS.length]);
    span.textContent = `${name}: ${history.at(-1)[key].get(name) ?? 0} in all`;
    return span;
  }));
  if (!names.length) $(legendId).textContent = 'None so far.';
}

function problem(text, status = 'No metrics') {
  document.body.dataset.mode = 'offline';
  $('status-text').textContent = status;
  $('problem').textContent = text;
  $('problem').hidden = false;
}

async function poll() {
  let text;
  try {
    const headers = apiKey() ? { Authorization: `Bearer ${apiKey()}` } : {};
    const r = await fetch('/metrics', { cache: 'no-store', headers });
    if (!r.ok) {
      problem(`/metrics answered HTTP ${r.status}. The dashboard reads the metrics of \`kiln serve\`: open it from the server (and set the server key on the builder page if the server asks for one).`);
      return;
    }
    text = await r.text();
  } catch (e) {
    problem(`The server could not be reached (${e.message}). The dashboard needs \`kiln serve\`; retrying every ${INTERVAL_MS / 1000} s.`);
    return;
  }
  const samples = parse(text);
  $('problem').hidden = true;
  document.body.dataset.mode = 'online';
  $('status-text').textContent = `Live: updated ${new Date().toLocaleTimeString()}`;
  history.push({ t: Date.now(), retries: sumBy(samples, 'kiln_llm_retries_total', 'provider'), fallbacks: sumBy(samples, 'kiln_llm_fallbacks_total', 'from') });
  if (history.length > KEEP) history.shift();
  drawFunnel('funnel', sumBy(samples, 'kiln_phase_transitions_total', 'to'), 'funnel-empty',
    'No conversations on this server since it started. Conversations in the builder page run in the browser and are not counted here (see “This browser”); clients of the HTTP API are.');
  drawSeries('retries', 'retries-legend', 'retries');
  drawSeries('fallbacks', 'fallbacks-legend', 'fallbacks');
  const now = sumBy(samples, 'kiln_sessions', 'phase');
  rows('sessions-now', phases.map((p) => [p.title, now.get(p.name) ?? 0]));
  [...$('sessions-now').tBodies[0].rows].forEach((tr, i) => { tr.dataset.phase = phases[i].name; });
  rows('turns', [...sumBy(samples, 'kiln_turns_total', 'outcome')].sort());
  rows('attempts', samples.filter((s) => s.name === 'kiln_llm_attempts_total').map((s) => [s.labels.provider ?? '', s.labels.class ?? '', s.value]));
  rows('cooldowns', [...sumBy(samples, 'kiln_llm_cooldowns_total', 'provider')].sort());
  rows('oauth', samples.filter((s) => s.name === 'kiln_oauth_outcomes_total').map((s) => [s.labels.provider ?? '', s.labels.outcome ?? '', s.value]));
  document.body.dataset.polls = String(history.length);
}

async function main() {
  try {
    await init();
    phases = JSON.parse(kiln.phases());
  } catch (e) {
    problem(`The engine (pkg/) did not load, so phases cannot be named: ${e.message}. Rebuild the site with web/build.sh.`, 'Not loaded');
    return;
  }
  drawLocal();
  const server = await probe();
  if (!server) {
    problem('No Kiln server behind this page (plain static hosting), so there are no server metrics: open the dashboard from `kiln serve`. This browser\'s own conversations are shown below.', 'No server');
    return;
  }
  poll();
  setInterval(() => {
    poll();
    drawLocal();
  }, INTERVAL_MS);
}

main();
