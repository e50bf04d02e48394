// Measures (not a test): the builder page against its floor, in headless Chromium, offline.
// `node web/tests/bench.mjs` after web/build.sh; prints Markdown tables for
// docs/benchmarks.md. `node web/tests/bench.mjs DIR...` measures several builds of the site.
//
// The floor is the first build's own page with the engine and its modules taken out: the same
// HTML and CSS, and a dozen lines of script that answer every message with a canned
// paragraph. Whatever the floor costs (navigation, parsing, style, layout, paint, raster) the
// page cannot avoid; the targets (issue #20) are the page's distance from it, measured in the
// same run with the pages' loads interleaved round by round (RUNS=n rounds after 2 warm-ups,
// default 21), so a machine whose load moves moves both:
// - page load to the first engine response painted: median within 30 ms of the floor's;
// - a warm turn (the second message: submit to its reply painted): median within one frame
//   (16 ms) of the floor's;
// - everything the page downloads: <= 220 KB gzip.
// Each round loads every page twice: with an empty HTTP cache (a first visit) and again with
// the cache as the first load left it (a returning visitor: the engine, named by its content,
// is cached for a year, and Chromium keeps its compiled code with it).
import { mkdtemp, readFile, readdir, writeFile, cp } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { REQUEST, launch } from './lib.mjs';

const RUNS = Number(process.env.RUNS || 21);
const WARMUPS = 2;
/** The warm turn: a second message, answered without an LLM (offline). */
const SECOND = 'London time';
const dists = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [fileURLToPath(new URL('../dist/', import.meta.url))];

/** What the floor page runs instead of the engine and the page's modules. */
const FLOOR_SCRIPT = `<script type="module">
const $ = (id) => document.getElementById(id);
requestAnimationFrame(() => setTimeout(() => {
  document.body.dataset.ready = 'true';
  performance.mark('kiln:engine');
  performance.mark('kiln:ready');
}, 0));
$('composer').addEventListener('submit', (ev) => {
  ev.preventDefault();
  $('composer-text').value = '';
  const msg = document.createElement('div');
  msg.className = 'msg kiln';
  const p = document.createElement('p');
  p.className = 'chunk';
  p.setAttribute('elementtiming', 'kiln:text');
  p.textContent = 'I can build that: every weekday at 09:00, read your unread Gmail, summarise it and post it to Slack #team. First, connect your Gmail account.';
  msg.append(p);
  $('log').append(msg);
  if (!performance.getEntriesByName('kiln:first-chunks').length) performance.mark('kiln:first-chunks');
  if (!performance.getEntriesByName('kiln:first-text').length) performance.mark('kiln:first-text');
  requestAnimationFrame(() => {
    if (!performance.getEntriesByName('kiln:first-response').length) performance.mark('kiln:first-response');
    document.body.dataset.busy = 'false';
  });
});
</script>`;

/** The floor: `dist`'s page without the engine's fetch and the modules, in a directory of its own. */
async function floor(dist) {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-floor-'));
  let html = await readFile(join(dist, 'index.html'), 'utf8');
  const cut = (re, by, what) => {
    const n = (html.match(re) || []).length;
    if (n !== 1) throw new Error(`bench: the page has ${n} ${what}, expected 1: update floor()`);
    html = html.replace(re, by);
  };
  cut(/<script>\s*\/\/[^<]*?window\.kilnEngine[\s\S]*?<\/script>/g, '', 'engine fetch scripts');
  cut(/<script type="module">[\s\S]*?<\/script>/g, FLOOR_SCRIPT, 'module scripts');
  await writeFile(join(dir, 'index.html'), html);
  await cp(join(dist, 'kiln-server.json'), join(dir, 'kiln-server.json'));
  return dir;
}

/** Raw bytes, and as kiln serve sends them: the .gz (Zopfli) and .br copies build.sh wrote. */
async function size(dist, files) {
  let raw = 0;
  let gz = 0;
  let br = 0;
  for (const f of files) {
    raw += (await readFile(join(dist, f))).length;
    gz += (await readFile(join(dist, `${f}.gz`))).length;
    br += (await readFile(join(dist, `${f}.br`))).length;
  }
  return { raw, gz, br };
}

/** The static server for `dist` in its own process, so serving files does not wait on this one. */
async function serve(dist) {
  const server = spawn(process.execPath, [fileURLToPath(new URL('serve.mjs', import.meta.url)), dist], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(server.stdout, 'data');
  return { server, url: String(line).trim().replace(/^listening /, '') };
}

// Runs in every page before its own scripts: sends the first message the moment the page says
// it is ready (a microtask after `data-ready` is set, no automation round trip in between),
// then, once the first response is in and the page idle for two frames, the second; and
// records when each response's text is painted (Element Timing: the frame's presentation, not
// just the DOM change). The end is told with a console line: waiting with playwright's
// waitFor* would inject its ~300 KB helper script into the page, whose compilation (20-40 ms
// here) would land in the middle of what is measured.
function sendOnReady([first, second]) {
  window.benchPaints = [];
  const submit = (text, mark) => {
    document.getElementById('composer-text').value = text;
    performance.mark(mark);
    document.getElementById('composer').requestSubmit();
  };
  const painted = (mark) => {
    const sent = performance.getEntriesByName(mark)[0];
    return sent && window.benchPaints.find((e) => e.identifier === 'kiln:text' && e.renderTime >= sent.startTime);
  };
  const idle = () => new Promise((resolve) => {
    const check = () => {
      if (document.body.dataset.busy === 'false') requestAnimationFrame(() => requestAnimationFrame(resolve));
      else setTimeout(check, 5);
    };
    check();
  });
  let secondSent = false;
  new PerformanceObserver((list) => {
    window.benchPaints.push(...list.getEntries());
    if (secondSent && painted('bench:sent2')) console.log('bench:done');
  }).observe({ type: 'element', buffered: true });
  new PerformanceObserver((list) => {
    if (!list.getEntriesByName('kiln:first-response').length) return;
    idle().then(() => {
      secondSent = true;
      submit(second, 'bench:sent2');
    });
  }).observe({ type: 'mark' });
  const watch = new MutationObserver(() => {
    if (document.body.dataset.ready !== 'true') return;
    watch.disconnect();
    submit(first, 'bench:sent');
  });
  watch.observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
}

function collect() {
  const at = (name) => performance.getEntriesByName(name)[0].startTime;
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = (mark) => window.benchPaints.find((e) => e.identifier === 'kiln:text' && e.renderTime >= at(mark))?.renderTime ?? NaN;
  const out = {
    html: nav.responseEnd,
    contentful: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    engine: at('kiln:engine'),
    ready: at('kiln:ready'),
    sent: at('bench:sent'),
    chunks: at('kiln:first-chunks'),
    text: at('kiln:first-text'),
    painted: paint('bench:sent'),
    streamed: at('kiln:first-response'),
    warm: paint('bench:sent2') - at('bench:sent2'),
  };
  localStorage.clear();
  return out;
}

/** Loads the page at `url` once and returns its figures. */
async function load(context, url) {
  const p = await context.newPage();
  const done = p.waitForEvent('console', { predicate: (m) => m.text() === 'bench:done', timeout: 30000 });
  await p.goto(url, { waitUntil: 'commit' });
  await done;
  const t = await p.evaluate(collect);
  await p.close();
  return t;
}

async function measure(pages) {
  const servers = await Promise.all(pages.map((p) => serve(p.dir)));
  const b = await launch();
  await b.context.addInitScript(sendOnReady, [REQUEST, SECOND]);
  const cdp = await b.context.newCDPSession(await b.context.newPage());
  try {
    for (let i = 0; i < RUNS + WARMUPS; i++) {
      // Each round starts with the next page: a page loaded right after another one runs
      // slower (10-25 ms here), which a fixed order would charge to the later pages.
      for (let j = 0; j < servers.length; j++) {
        const k = (i + j) % servers.length;
        await cdp.send('Network.clearBrowserCache');
        const cold = await load(b.context, servers[k].url);
        const cached = await load(b.context, servers[k].url);
        if (i >= WARMUPS) {
          pages[k].cold.push(cold);
          pages[k].cached.push(cached);
        }
      }
    }
  } finally {
    await b.close();
    for (const { server } of servers) server.kill();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (x) => `${x.toFixed(1)} ms`;

const pages = dists.map((dir) => ({ dir, name: dir, cold: [], cached: [] }));
pages.push({ dir: await floor(dists[0]), name: 'floor', cold: [], cached: [] });
const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
await measure(pages);
const load1 = loadavg().map((x) => x.toFixed(2)).join(' ');
const base = pages.at(-1);

for (const page of pages.slice(0, -1)) {
  const pkg = (await readdir(join(page.dir, 'pkg'))).filter((f) => !/\.(br|gz)$/.test(f)).map((f) => `pkg/${f}`);
  // The page's engine and its glue (the online engine, kiln_web_llm_bg, is loaded only when
  // the server has models: docs/web.md, "Two engines").
  const own = pkg.filter((f) => !f.includes('kiln_web_llm_bg.'));
  const engine = await size(page.dir, own);
  const wasm = own.filter((f) => f.endsWith('.wasm'));
  // What the builder page downloads: its HTML (stylesheet and modules inline), the engine,
  // and its status file.
  const all = await size(page.dir, ['index.html', 'kiln-server.json', ...wasm]);
  console.log(`\n${page.name}: medians of ${RUNS} interleaved rounds (load average ${load0} before, ${load1} after)\n`);
  console.log(`| size (as kiln serve sends it: build.sh's Zopfli .gz and Brotli .br copies) | raw / gzip / Brotli |\n| --- | --- |\n| engine (pkg/: wasm + JS glue) | ${kb(engine.raw)} / ${kb(engine.gz)} / ${kb(engine.br)} |\n| **everything the page downloads** (index.html with its stylesheet and modules inline, the wasm, kiln-server.json) | ${kb(all.raw)} / **${kb(all.gz)}** (target <= 220 KB) / ${kb(all.br)} |\n`);
  for (const mode of ['cold', 'cached']) {
    const r = page[mode];
    const f = base[mode];
    const m = (rows, fn) => median(rows.map(fn));
    const row = (label, fn, floorToo = true) => `| ${label} | ${ms(m(r, fn))} | ${floorToo ? ms(m(f, fn)) : '-'} | ${floorToo ? ms(m(r, fn) - m(f, fn)) : '-'} |`;
    // Paired per round: the page's figure minus the floor's in the same round.
    const paired = (fn) => median(r.map((t, i) => fn(t) - fn(f[i])));
    const first = (t) => t.painted;
    const warm = (t) => t.warm;
    console.log(`${mode === 'cold' ? 'First visit (empty HTTP cache)' : 'Returning visit (HTTP cache from the first)'}:

| figure | page | floor | page - floor |
| --- | --- | --- | --- |
${row('navigation start to the HTML received', (t) => t.html)}
${row('navigation start to the first contentful paint', (t) => t.contentful)}
${row('navigation start to the engine instantiated', (t) => t.engine)}
${row('navigation start to ready', (t) => t.ready)}
${row('first message (sent on ready) to the answer (the turn)', (t) => t.chunks - t.sent)}
${row('first message to its first text painted', (t) => t.painted - t.sent)}
| **page load to the first response painted** (target: page - floor <= 30 ms) | **${ms(m(r, first))}** | ${ms(m(f, first))} | **${ms(m(r, first) - m(f, first))}** (paired per round: ${ms(paired(first))}) |
| **warm turn: second message to its reply painted** (target: <= 16 ms) | **${ms(m(r, warm))}** | ${ms(m(f, warm))} | **${ms(m(r, warm) - m(f, warm))}** (paired: ${ms(paired(warm))}) |
`);
  }
}
