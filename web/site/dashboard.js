// The operator dashboard: polls the server's /metrics (Prometheus text) and draws the phase
// funnel and the LLM retries and fallbacks by provider over time. Needs `kiln serve`; on
// plain static hosting it says so.
import { parse, sumBy } from './metrics.js';
import { apiKey } from './server.js';

const PHASES = ['IDLE', 'DISCOVERY', 'OAUTH_FLOW', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'ACTIVATION', 'COMPLETE'];
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

function drawFunnel(samples) {
  const into = sumBy(samples, 'kiln_phase_transitions_total', 'to');
  const bars = PHASES.slice(1).map((p) => [p, into.get(p) ?? 0]);
  const max = Math.max(1, ...bars.map(([, n]) => n));
  const w = 480; const row = 26; const left = 120;
  const box = $('funnel');
  box.setAttribute('viewBox', `0 0 ${w} ${bars.length * row + 4}`);
  box.replaceChildren(...bars.flatMap(([p, n], i) => {
    const width = Math.max(1, ((w - left - 50) * n) / max);
    const bar = svg('rect', { class: 'bar', x: left, y: i * row + 4, width, height: row - 8, rx: 3 });
    bar.dataset.phase = p;
    bar.dataset.value = String(n);
    return [svg('text', { x: 0, y: i * row + row / 2 + 4 }, p), bar, svg('text', { x: left + width + 6, y: i * row + row / 2 + 4 }, String(n))];
  }));
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

function problem(text) {
  document.body.dataset.mode = 'offline';
  $('status-text').textContent = 'No metrics';
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
  drawFunnel(samples);
  drawSeries('retries', 'retries-legend', 'retries');
  drawSeries('fallbacks', 'fallbacks-legend', 'fallbacks');
  const now = sumBy(samples, 'kiln_sessions', 'phase');
  rows('sessions-now', PHASES.map((p) => [p, now.get(p) ?? 0]));
  rows('turns', [...sumBy(samples, 'kiln_turns_total', 'outcome')].sort());
  rows('attempts', samples.filter((s) => s.name === 'kiln_llm_attempts_total').map((s) => [s.labels.provider ?? '', s.labels.class ?? '', s.value]));
  rows('cooldowns', [...sumBy(samples, 'kiln_llm_cooldowns_total', 'provider')].sort());
  rows('oauth', samples.filter((s) => s.name === 'kiln_oauth_outcomes_total').map((s) => [s.labels.provider ?? '', s.labels.outcome ?? '', s.value]));
  document.body.dataset.polls = String(history.length);
}

poll();
setInterval(poll, INTERVAL_MS);
