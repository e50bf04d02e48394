// The builder UI: renders what the guest (pkg/kiln_web.js, kiln-core compiled to wasm)
// reports, and drives its turns. Sessions live in localStorage through the guest; this file
// keeps only the rendered transcript of each session (kiln-ui/v1/...) and names people gave
// their sessions beside them. Every change, typed or made in the panel, is a turn of the
// guest: the panel never changes the agent by itself.

import init, * as kiln from './pkg/kiln_web.js';
import * as server from './server.js';
import { flowNodes, plainRequirements, shortTitle, questionKind, DAY_NAMES, daysSentence, parseDays } from './words.js';
// The engine's `phases()`, asked by web/build.sh (prerender.mjs): the empty page is drawn
// from it before the engine has loaded.
import PHASES from './phases.json';

const UI = 'kiln-ui/v1/';
const CURRENT_ITEM = `${UI}current`;
const TRANSCRIPT_PREFIX = `${UI}transcripts/`;
const NAME_PREFIX = `${UI}names/`;
/** `llm` when the page's server had models (the <head> script then loads the online engine). */
const ENGINE_ITEM = `${UI}engine`;
const MAX_TRANSCRIPT = 400;

/** Examples offered on an empty conversation. */
const STARTERS = [
  'Every weekday at 9, summarise my unread Gmail and post it to Slack #team',
  'When a new issue is opened in GitHub, create a task in Jira',
  'Every Monday at 8, list my Google Calendar events and post them to Slack #standup',
  'Each day at 17:30, add new HubSpot contacts to a Google Sheet',
];

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c != null) node.append(c);
  return node;
};

const app = {
  /** What the server offers (its kiln-server.json), or null offline. */
  server: null,
  probing: null,
  phases: PHASES,
  /** Whether the engine has loaded (the page may be ready before: see `main`). */
  engine: false,
  /** The online engine's module once asked for (`onlineEngine`). */
  online: null,
  /** id -> display name of every integration the engine knows (loaded when first needed). */
  providerNames: null,
  /** { id, view, transcript } of the open session, or null before the first message. */
  current: null,
  busy: false,
};

// --- small storage helpers for the UI's own items ---------------------------------------

function uiGet(item) {
  try {
    return localStorage.getItem(item);
  } catch {
    return null;
  }
}

function uiSet(item, value) {
  try {
    localStorage.setItem(item, value);
    return true;
  } catch {
    return false;
  }
}

function uiRemove(item) {
  try {
    localStorage.removeItem(item);
  } catch {
    // Nothing to do: the item stays, harmlessly.
  }
}

function loadTranscript(id) {
  const raw = uiGet(TRANSCRIPT_PREFIX + id);
  if (raw == null) return [];
  try {
    const t = JSON.parse(raw);
    if (Array.isArray(t) && t.every((e) => e && typeof e.role === 'string')) return t;
  } catch {
    // Falls through to the note below.
  }
  return [{ role: 'note', text: 'The saved transcript of this session was unreadable, so it starts here; the session itself is intact.' }];
}

function saveTranscript() {
  const c = app.current;
  if (!c) return;
  if (c.transcript.length > MAX_TRANSCRIPT) c.transcript.splice(0, c.transcript.length - MAX_TRANSCRIPT);
  if (!uiSet(TRANSCRIPT_PREFIX + c.id, JSON.stringify(c.transcript))) {
    showBanner('The browser storage is full: the transcript shown here was not saved (the session was). Delete sessions you no longer need.');
  }
}

// --- errors ------------------------------------------------------------------------------

/** Shows the blocking panel with a message and buttons ([label, handler] pairs). */
function fatal(title, text, buttons) {
  $('fatal-title').textContent = title;
  $('fatal-text').textContent = text;
  const row = $('fatal-actions');
  row.replaceChildren(...buttons.map(([label, onClick, cls]) => el('button', { className: cls || 'primary', textContent: label, onclick: onClick })));
  $('fatal').hidden = false;
  row.querySelector('button')?.focus();
}

function closeFatal() {
  $('fatal').hidden = true;
  $('composer-text').focus();
}

/** Every local Kiln item: the guest's records and the UI's transcripts. */
function startFresh() {
  try {
    kiln.eraseAll();
  } catch (e) {
    // Erasing through the guest failed (storage blocked?): remove the items directly.
    console.warn('eraseAll failed', e);
  }
  const mine = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k && (k.startsWith('kiln/') || k.startsWith(UI))) mine.push(k);
    }
    mine.forEach((k) => localStorage.removeItem(k));
  } catch {
    // Storage unavailable: nothing stored to erase.
  }
  app.current = null;
  closeFatal();
  refreshSessions();
  render();
}

/** Whether a guest error is about a stored record it cannot read (damaged, or older). */
function unreadable(e) {
  return e && (e.name === 'corrupt' || e.name === 'older');
}

/** Saves the stored bytes of `key` as a file named like the store key's (`<id>.json`). */
function downloadRecord(key) {
  let bytes;
  try {
    bytes = kiln.rawRecord(key);
  } catch (e) {
    console.warn(e);
  }
  if (!bytes) return;
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = el('a', { href: url, download: key.split('/').pop() });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * A stored record the guest cannot read (`corrupt`: damaged; `older`: a session saved by an
 * older Kiln, which this page no longer reads): explain, and offer to download it, to drop
 * it, or to start fresh. Nothing is removed unless asked.
 */
function corrupt(e) {
  const key = e.key;
  const buttons = [];
  if (key) {
    buttons.push(['Download it', () => downloadRecord(key)]);
    buttons.push([e.name === 'older' ? 'Remove it' : 'Remove the damaged record', () => {
      try {
        kiln.discardRecord(key);
      } catch (err) {
        console.warn(err);
      }
      const id = /^sessions\/(.+)\.json$/.exec(key)?.[1];
      if (id) {
        uiRemove(TRANSCRIPT_PREFIX + id);
        uiRemove(NAME_PREFIX + id);
      }
      if (app.current && id === app.current.id) app.current = null;
      closeFatal();
      refreshSessions();
      render();
    }, 'ghost']);
  }
  buttons.push(['Start fresh (erase all Kiln data in this browser)', startFresh, key ? 'ghost' : 'primary']);
  if (e.name === 'older') {
    fatal('A session saved by an older Kiln', e.message, buttons);
  } else {
    fatal('Some saved data is damaged',
      `Kiln found data in this browser's storage that it cannot read, and left it untouched. ${e.message}`,
      buttons);
  }
}

/** Reports a failed call to the guest in the conversation (or the panel when corrupt). */
function reportError(e) {
  if (unreadable(e)) return corrupt(e);
  const message = e && e.message ? e.message : String(e);
  if (e && (e.name === 'expired' || e.name === 'not-found')) {
    const why = e.name === 'expired'
      ? 'This session expired after 30 minutes without activity; it was archived, not deleted.'
      : 'This session no longer exists in this browser (deleted in another tab?).';
    pushEntry({ role: 'error', text: `${why} Start a new session to go on.`, offerNew: true });
    refreshSessions();
    return;
  }
  pushEntry({ role: 'error', text: message });
}

function showBanner(text, kind = 'notice') {
  const b = $('mode-banner');
  b.textContent = text;
  b.dataset.kind = kind;
  b.hidden = false;
}

// --- the connection ----------------------------------------------------------------------

function providerName(id) {
  if (!app.providerNames) {
    try {
      app.providerNames = new Map(JSON.parse(kiln.providers()).map((p) => [p.id, p.name]));
    } catch {
      app.providerNames = new Map();
    }
  }
  return app.providerNames.get(id) || id;
}

/** Says exactly what this page has behind it: a server with or without models, real or simulated sign-in. */
function setMode(status) {
  app.server = status;
  document.body.dataset.mode = status ? 'online' : 'offline';
  // Loaded while the person types, not when they send; without models the next load takes
  // the smaller engine.
  if (llmOnline()) onlineEngine();
  else uiRemove(ENGINE_ITEM);
  let text;
  let detail;
  if (!status) {
    text = 'Offline: rules only, sign-in simulated';
    detail = 'No Kiln server behind this page: the built-in rules understand your messages, connecting an account is simulated, and agents are saved in this browser.';
  } else {
    const models = status.models ? 'LLM on' : 'no LLM configured';
    const names = status.sign_in.map((p) => (app.engine ? providerName(p) : p));
    const signIn = names.length ? `real sign-in: ${names.join(', ')}` : 'sign-in simulated';
    text = `kiln serve: ${models}, ${signIn}`;
    detail = `Served by kiln serve ${status.version}. ${status.models ? 'Messages are understood by the server\'s LLM (the rules take over when it fails).' : 'The server has no models configured, so the built-in rules answer.'} ${names.length ? `Accounts other than ${names.join(', ')} are connected by a simulated sign-in.` : 'No account sign-in is configured, so connecting is simulated.'}${status.api_keys ? ' The server needs an API key (Server key).' : ''}`;
  }
  $('conn-text').textContent = text;
  $('conn-detail').textContent = `${detail} Click to check again.`;
  $('conn').title = detail;
}

/** Whether turns may ask the server's LLM proxy. */
function llmOnline() {
  return Boolean(app.server && app.server.models);
}

/**
 * The online engine (pkg/kiln_web_llm_bg.wasm: the page's engine with the code that asks a
 * model), for a page whose server has models. The page loads it at once when its server had
 * models last time (`kiln-ui/v1/engine`, read by the <head> script); otherwise, the first time
 * a server with models answers, it runs in a second instance of the same glue (the page's
 * own is bound to the engine it loaded) and is remembered for the next load (docs/web.md,
 * "Two engines"). Resolves to the glue's module, or to null when it could not load (the rules
 * then answer, and the banner says why).
 */
function onlineEngine() {
  uiSet(ENGINE_ITEM, 'llm');
  if (window.kilnLlm) return Promise.resolve(kiln);
  app.online ??= import('./pkg/kiln_web.js?llm')
    .then(async (glue) => {
      await glue.default({ module_or_path: 'pkg/kiln_web_llm_bg.wasm' });
      return glue;
    })
    .catch((e) => {
      showBanner(`The server has an LLM, but the engine that asks it did not load (${e.message}): the built-in rules answer.`);
      return null;
    });
  return app.online;
}

/** The `Turn` class of the engine for the next turn, and whether it may ask the LLM. */
async function turnEngine() {
  const engine = llmOnline() ? await onlineEngine() : null;
  return engine ? [engine.Turn, true] : [kiln.Turn, false];
}

async function checkServer() {
  document.body.dataset.mode = 'checking';
  app.probing = server.probe();
  setMode(await app.probing);
}

// --- the guest ---------------------------------------------------------------------------

function view(id) {
  return JSON.parse(kiln.getSession(id));
}

/** Drives one guest turn to its end, answering its LLM calls through the server. */
async function drive(turn) {
  try {
    for (;;) {
      const step = JSON.parse(turn.step());
      if (step.kind === 'done') return step.chunks;
      $('progress').textContent = step.progress;
      const reply = await server.complete(step.request, (m) => showBanner(m, 'key'));
      turn.resume(JSON.stringify(reply));
    }
  } finally {
    $('progress').textContent = '';
    turn.free();
  }
}

/**
 * Runs a turn made by `make(Turn, sessionId, llm)` (`Turn`: the class of the engine that runs
 * it), showing `said` as the person's message. Creates the session first if there is none.
 * `focusAfter` names what gets the focus once the turn is shown (after a dialog or a panel
 * edit).
 */
async function runTurn(said, make, focusAfter) {
  if (app.busy) return;
  setBusy(true);
  let typing = null;
  try {
    // The examples are for an empty conversation only.
    document.querySelector('#log .starters')?.remove();
    const saidNode = said ? renderEntry({ role: 'user', text: said }, false) : null;
    typing = el('div', { className: 'typing', role: 'status', ariaLabel: 'Kiln is working on it' }, el('span'), el('span'), el('span'));
    $('log').append(...[saidNode, typing].filter(Boolean));
    scrollLog();
    // Sent while the engine was still loading: answered as soon as it is ready (the page is
    // drawn again then, so the message and the indicator go back at its end).
    await engineReady;
    if (saidNode && !saidNode.isConnected) $('log').append(saidNode);
    if (!typing.isConnected) $('log').append(typing);
    if (!app.current) {
      const v = JSON.parse(kiln.startSession());
      app.current = { id: v.session_id, view: v, transcript: [] };
      uiSet(CURRENT_ITEM, v.session_id);
    }
    if (said) {
      app.current.transcript.push({ role: 'user', text: said });
      saveTranscript();
    }
    const c = app.current;
    let chunks;
    try {
      const [Turn, llm] = await turnEngine();
      chunks = await drive(make(Turn, c.id, llm));
      if (!performance.getEntriesByName('kiln:first-chunks').length) performance.mark('kiln:first-chunks');
    } catch (e) {
      typing.remove();
      reportError(e);
      return;
    }
    const entry = {
      role: 'kiln',
      chunks: chunks.map((ch) => ({ text: ch.text, phase: ch.phase })),
      actions: chunks.at(-1)?.actions ?? [],
    };
    c.transcript.push(entry);
    saveTranscript();
    $('composer-text').placeholder = 'Reply to Kiln…';
    const node = renderEntry(entry, true);
    typing.replaceWith(node);
    const streamed = stream(node);
    // The text goes on screen first: the panels (a larger layout) follow a frame later.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    c.view = view(c.id);
    renderPanels();
    await streamed;
    renderActions(entry);
    if (!performance.getEntriesByName('kiln:first-response').length) performance.mark('kiln:first-response');
    refreshSessions();
  } catch (e) {
    reportError(e);
  } finally {
    typing?.remove();
    setBusy(false);
    if (focusAfter) focusAfter();
  }
}

function setBusy(busy) {
  app.busy = busy;
  document.body.dataset.busy = String(busy);
  $('log').setAttribute('aria-busy', String(busy));
  for (const b of document.querySelectorAll('#composer button, .toolbar button, #actions button, #requirements button, #flow button')) b.disabled = busy;
  if (!busy) {
    $('btn-back').disabled = !app.current;
    $('btn-status').disabled = !app.current;
    $('btn-reset').disabled = !app.current;
  }
}

function pushEntry(entry) {
  if (app.current) {
    app.current.transcript.push(entry);
    saveTranscript();
  }
  $('log').append(renderEntry(entry, false));
  scrollLog();
}

// --- rendering -----------------------------------------------------------------------------

let scrollQueued = false;

/**
 * Keeps the log at its end, once per frame: reading its height forces a layout, which in a
 * frame callback is the one the frame does anyway, and elsewhere (in the middle of a turn)
 * would be an extra one on the first response's path.
 */
function scrollLog() {
  if (scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    const log = $('log');
    log.scrollTop = log.scrollHeight;
  });
}

const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

/** Reveals the message's chunks a few characters per frame: streaming-looking text. */
async function stream(node) {
  const parts = [...node.querySelectorAll('.chunk')];
  if (reducedMotion.matches) {
    for (const p of parts) p.textContent = p.dataset.text;
  } else {
    // About a dozen frames for the whole response, however long it is.
    const total = parts.reduce((n, p) => n + p.dataset.text.length, 0);
    const per = Math.max(8, Math.ceil(total / 12));
    for (const p of parts) {
      const text = p.dataset.text;
      for (let n = 0; n < text.length; n += per) {
        p.textContent = text.slice(0, n + per);
        if (!performance.getEntriesByName('kiln:first-text').length) performance.mark('kiln:first-text');
        scrollLog();
        await new Promise((r) => requestAnimationFrame(r));
      }
      p.textContent = text;
    }
  }
  node.classList.remove('streaming');
  scrollLog();
}

function renderEntry(entry, animate) {
  if (entry.role === 'kiln') {
    const node = el('div', { className: `msg kiln${animate ? ' streaming' : ''}` });
    node.append(el('span', { className: 'who', textContent: 'Kiln' }));
    for (const ch of entry.chunks) {
      if (!ch.text) continue;
      const p = el('p', { className: 'chunk' });
      p.dataset.phase = ch.phase;
      p.dataset.text = ch.text;
      // Reports when the text is painted (Element Timing), for web/tests/bench.mjs.
      if (animate) p.setAttribute('elementtiming', 'kiln:text');
      p.textContent = animate ? '' : ch.text;
      node.append(p);
    }
    return node;
  }
  if (entry.role === 'user') {
    return el('div', { className: 'msg user' }, el('span', { className: 'who', textContent: 'You' }), el('p', { textContent: entry.text }));
  }
  const node = el('div', { className: `msg ${entry.role}`, role: entry.role === 'error' ? 'alert' : 'note' }, el('p', { textContent: entry.text }));
  if (entry.offerNew) node.append(el('button', { className: 'primary', textContent: 'Start a new session', onclick: newSession }));
  return node;
}

function renderLog() {
  const log = $('log');
  log.replaceChildren();
  const t = app.current ? app.current.transcript : [];
  const greeting = el('div', { className: 'msg kiln greeting' },
    el('span', { className: 'who', textContent: 'Kiln' }),
    el('p', { textContent: 'What should your agent do? Describe it in your own words, or start from an example:' }));
  if (!t.length) {
    greeting.append(el('div', { className: 'starters', role: 'group', ariaLabel: 'Examples' },
      ...STARTERS.map((s) => el('button', { type: 'button', className: 'starter', textContent: s, onclick: () => send(s) }))));
  }
  log.append(greeting);
  for (const e of t) log.append(renderEntry(e, false));
  $('composer-text').placeholder = t.length ? 'Reply to Kiln…' : 'Describe the agent you want…';
  scrollLog();
  const last = [...t].reverse().find((e) => e.role === 'kiln');
  renderActions(last || null);
}

/** The stepper's words for a phase: the engine's titles, except that "Active" in a browser means saved here. */
function phaseTitle(p) {
  return p.name === 'COMPLETE' ? 'Done: saved here' : p.title;
}

function renderStepper() {
  const phase = app.current ? app.current.view.phase : 'IDLE';
  const visited = new Set(['IDLE']);
  for (const h of app.current ? app.current.view.history : []) {
    visited.add(h.from);
    visited.add(h.to);
  }
  const at = app.phases.findIndex((p) => p.name === phase);
  $('stepper').replaceChildren(...app.phases.map((p, i) => {
    let state = 'todo';
    if (p.name === phase) state = 'current';
    else if (i < at) state = visited.has(p.name) ? 'done' : 'skipped';
    const words = { current: 'now', done: 'done', skipped: 'not needed', todo: 'to come' }[state];
    const li = el('li', { className: state, title: `${phaseTitle(p)} (${words})` },
      el('span', { className: 'num', textContent: String(i + 1), ariaHidden: 'true' }),
      el('span', { className: 'label', textContent: phaseTitle(p) }),
      el('span', { className: 'visually-hidden', textContent: ` (${words})` }));
    li.dataset.phase = p.name;
    li.dataset.state = state;
    if (state === 'current') li.setAttribute('aria-current', 'step');
    return li;
  }));
  const now = app.phases[at];
  $('step-now').textContent = now ? `Step ${at + 1} of ${app.phases.length}: ${phaseTitle(now)}` : '';
}

/** The browser's own time zone (IANA name), or null. Formats nothing, so no ICU date data is loaded. */
function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

let zoneList = null;
/** Every IANA zone the browser knows, for the searchable pick list. */
function zones() {
  if (!zoneList) {
    try {
      zoneList = Intl.supportedValuesOf('timeZone');
    } catch {
      zoneList = [];
    }
    if (!zoneList.includes('UTC')) zoneList.push('UTC');
  }
  return zoneList;
}

/** Channels the person has mentioned in this conversation, most recent first. */
function mentionedChannels() {
  const seen = [];
  for (const e of [...(app.current?.transcript ?? [])].reverse()) {
    if (e.role !== 'user') continue;
    for (const m of e.text.matchAll(/#[a-z0-9][\w-]*/gi)) if (!seen.includes(m[0])) seen.push(m[0]);
  }
  const current = app.current?.view.requirements.find((r) => r.field === 'channel')?.value;
  return seen.filter((c) => c !== current);
}

/** The quick replies the page adds for the question the last response asks. */
function suggestions(entry, offered) {
  const last = entry.chunks.at(-1)?.text ?? '';
  const kind = questionKind(last, entry.actions);
  const have = new Set(offered.map((a) => a.value));
  const add = [];
  if (kind === 'timezone') {
    const zone = browserZone();
    if (zone && !have.has(zone)) add.push({ kind: 'choose', label: `${zone} (this device)`, value: zone, first: true });
    if (zone !== 'UTC') add.push({ kind: 'choose', label: 'UTC', value: 'UTC' });
    add.push({ kind: 'other_zone', label: 'Another time zone…', value: '' });
  } else if (kind === 'days') {
    add.push(...[['Weekdays', 'on weekdays'], ['Every day', 'every day'], ['Mondays', 'on Mondays'], ['Fridays', 'on Fridays']].map(([label, value]) => ({ kind: 'choose', label, value })));
  } else if (kind === 'channel') {
    add.push(...mentionedChannels().slice(0, 4).map((c) => ({ kind: 'choose', label: c, value: `post to ${c}` })));
  } else if (kind === 'time') {
    add.push(...['08:00', '09:00', '17:00'].map((t) => ({ kind: 'choose', label: t, value: `at ${t}` })));
  }
  return add.filter((a) => !have.has(a.value) || !a.value);
}

/** The last response's actions as buttons, plus quick replies for its question. */
function renderActions(entry) {
  const box = $('actions');
  if (!entry) {
    box.replaceChildren();
    return;
  }
  // One export: the agent panel's button.
  let offered = (entry.actions || []).filter((a) => a.kind !== 'export');
  // The device's own zone goes first, also when the engine offers it among its choices.
  const zone = browserZone();
  const own = offered.find((a) => a.kind === 'choose' && a.value === zone && questionKind('', offered) === 'timezone');
  if (own) offered = [{ ...own, label: `${own.label} (this device)` }, ...offered.filter((a) => a !== own)];
  const extra = suggestions(entry, offered);
  const all = [...extra.filter((a) => a.first), ...offered, ...extra.filter((a) => !a.first)];
  box.replaceChildren(...all.map((a) => {
    const primary = a.kind === 'confirm' || a.kind === 'accept' || a.kind === 'connect';
    const b = el('button', { className: primary ? 'primary' : a.kind === 'choose' ? 'chip' : 'ghost', textContent: a.label, type: 'button' });
    b.dataset.kind = a.kind;
    b.dataset.value = a.value;
    b.onclick = () => onAction(a);
    b.disabled = app.busy;
    return b;
  }));
}

/** A small round logo: the integration's initial on a colour of its own. */
function logo(id, label) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.setAttribute('class', 'logo');
  svg.setAttribute('aria-hidden', 'true');
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
  const circle = document.createElementNS(NS, 'circle');
  circle.setAttribute('cx', '16');
  circle.setAttribute('cy', '16');
  circle.setAttribute('r', '15');
  circle.setAttribute('fill', `hsl(${h} 55% 38%)`);
  const text = document.createElementNS(NS, 'text');
  text.setAttribute('x', '16');
  text.setAttribute('y', '21');
  text.setAttribute('text-anchor', 'middle');
  text.setAttribute('font-size', '14');
  text.setAttribute('font-weight', '700');
  text.setAttribute('fill', '#fff');
  text.textContent = label;
  svg.append(circle, text);
  return svg;
}

/** The arrow between two nodes of the flow. */
function arrow() {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 22');
  svg.setAttribute('class', 'link');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', 'M12 1v17M5 12l7 8 7-8');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2');
  path.setAttribute('fill', 'none');
  svg.append(path);
  return svg;
}

/** The agent as a picture: trigger -> steps -> destinations, with the dry run's samples. */
function renderFlow(v, spec, run) {
  const nodes = flowNodes(v, spec, run, { providerName, connected: v ? v.connected : [] });
  const box = $('flow');
  if (!nodes.length) {
    box.replaceChildren(el('p', { className: 'muted', textContent: 'Describe what the agent should do, and its steps appear here.' }));
    return;
  }
  const list = el('ol', { className: 'flow', ariaLabel: 'What the agent does, in order' });
  nodes.forEach((n, i) => {
    const li = el('li', { className: `node ${n.role}${n.missing ? ' missing' : ''}` });
    li.dataset.role = n.role;
    if (n.step) li.dataset.step = n.step;
    li.append(logo(n.icon, n.badge), el('span', { className: 'what', textContent: n.what }));
    if (n.target) {
      const target = el('button', { type: 'button', className: 'ghost target', textContent: n.target.label, onclick: () => edit(n.target.field) });
      target.dataset.field = n.target.field;
      target.setAttribute('aria-label', `${n.target.label}: change where it posts`);
      li.append(el('span', { className: 'io' }, `${n.target.prefix} `, target));
    }
    if (n.who) li.append(el('span', { className: 'who', textContent: n.who }));
    if (n.io) li.append(el('span', { className: 'io', textContent: n.io }));
    if (n.sample) li.append(el('div', { className: 'sample' }, el('b', { textContent: 'Sample: ' }), n.sample));
    if (i > 0) list.append(el('li', { ariaHidden: 'true', className: 'arrow' }, arrow()));
    list.append(li);
  });
  box.replaceChildren(list);
}

function renderPanels() {
  renderStepper();
  const v = app.current ? app.current.view : null;
  // The details in plain words; each one the engine can change is a button.
  const rows = v ? plainRequirements(v.requirements, v.phase) : [];
  $('requirements').replaceChildren(...rows.flatMap((r) => {
    const dt = el('dt', { textContent: r.label });
    let value;
    if (r.editable) {
      value = el('button', { type: 'button', onclick: () => edit(r.field) },
        el('span', {}, el('span', { className: 'visually-hidden', textContent: `${r.label}: ` }), r.value),
        el('span', { className: 'edit', textContent: 'Change' }));
      value.disabled = app.busy;
    } else {
      value = el('span', { className: 'fixed', textContent: r.value });
    }
    const dd = el('dd', {}, value);
    dd.dataset.field = r.field;
    return [dt, dd];
  }));
  $('req-empty').hidden = rows.length > 0;
  $('connected').textContent = v && v.connected.length ? `Connected: ${v.connected.map(providerName).join(', ')}` : '';
  // The field ids, only under "Technical details".
  $('fields').tBodies[0].replaceChildren(...(v ? v.requirements : []).map((r) => {
    const tr = el('tr', {}, el('th', { scope: 'row', textContent: r.field }), el('td', { textContent: r.value }), el('td', { className: 'turn', textContent: `turn ${r.turn}` }));
    tr.dataset.field = r.field;
    return tr;
  }));
  // The pending connection.
  const pending = v && v.pending_oauth;
  $('pending').hidden = !pending;
  if (pending) {
    // Formatted by hand: the first toLocaleTimeString of a page loads ICU's date data
    // (~20 ms here), on the first response's path.
    const d = new Date(pending.expires_at_ms);
    const until = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    $('pending-text').textContent = `${providerName(pending.provider)}: use “Connect” below (the request is valid until ${until}).`;
  }
  renderAgent(v);
}

function renderAgent(v) {
  const box = $('draft');
  const badge = $('agent-badge');
  const note = $('agent-note');
  let spec = null;
  let run = null;
  if (v && v.draft_agent_id) {
    try {
      spec = JSON.parse(kiln.exportAgent(v.session_id));
      run = JSON.parse(kiln.dryRun(v.session_id));
    } catch (e) {
      if (unreadable(e)) return corrupt(e);
      box.replaceChildren(el('p', { className: 'muted', textContent: e.message }));
    }
  }
  const phase = v ? v.phase : 'IDLE';
  const done = phase === 'COMPLETE';
  badge.dataset.state = done ? 'active' : spec ? 'draft' : 'none';
  badge.textContent = done ? 'Ready, saved here' : spec ? `Draft${v.iteration ? `, revision ${v.iteration + 1}` : ''}` : 'Not built yet';
  $('agent-title').textContent = spec ? spec.name : 'Your agent';
  // Honest about what activation means in a browser.
  note.hidden = !(done || phase === 'ACTIVATION');
  note.textContent = done
    ? 'Saved in this browser. Nothing runs here: the agent runs on its schedule once its spec is deployed to a Kiln server (export it below).'
    : 'Activating saves the agent in this browser; it runs once its spec is deployed to a Kiln server.';
  renderFlow(v, spec, run);
  const problems = run ? run.problems : [];
  $('problems').hidden = problems.length === 0;
  $('problems').replaceChildren(...problems.map((p) => el('li', { textContent: p })));
  if (!spec) {
    box.replaceChildren(el('p', { className: 'muted', textContent: 'The spec is written once you confirm the details.' }));
    delete box.dataset.draftId;
    $('spec-json').textContent = '';
    $('export').disabled = true;
    return;
  }
  box.dataset.draftId = v.draft_agent_id;
  box.replaceChildren(
    el('p', { className: 'agent-name', textContent: spec.name }),
    el('p', { textContent: spec.description }),
    run && !problems.length ? el('p', { className: 'ok', textContent: 'Tried on sample data: no problems found.' }) : null,
  );
  $('spec-json').textContent = JSON.stringify(spec, null, 2);
  $('export').disabled = false;
}

function relativeTime(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

function sessionName(s) {
  return uiGet(NAME_PREFIX + s.session_id) || shortTitle(s.goal) || 'New agent';
}

function refreshSessions() {
  let list;
  try {
    list = JSON.parse(kiln.listSessions());
  } catch (e) {
    reportError(e);
    return false;
  }
  const title = (p) => {
    const phase = app.phases.find((x) => x.name === p);
    return phase ? phaseTitle(phase) : p;
  };
  $('session-list').replaceChildren(...list.map((s) => {
    const name = sessionName(s);
    const open = el('button', { className: 'session-open', type: 'button', onclick: () => openSession(s.session_id), title: s.goal || '' },
      el('span', { className: 'goal', textContent: name }),
      el('span', { className: 'meta', textContent: `${title(s.phase)} · ${relativeTime(s.last_active_at_ms)}` }));
    const rename = el('button', { className: 'ghost', type: 'button', textContent: 'Rename', onclick: () => renameSession(li, s) });
    rename.setAttribute('aria-label', `Rename ${name}`);
    const del = el('button', { className: 'ghost danger', type: 'button', textContent: 'Delete', onclick: () => deleteSession(s.session_id, name) });
    del.setAttribute('aria-label', `Delete ${name}`);
    const li = el('li', {}, open, el('span', { className: 'session-tools' }, rename, del));
    li.dataset.sessionId = s.session_id;
    if (app.current && app.current.id === s.session_id) {
      li.classList.add('current');
      open.setAttribute('aria-current', 'true');
    }
    return li;
  }));
  $('session-empty').hidden = list.length > 0;
  return true;
}

/** Edits a session's name in place (kept by the page; the session's goal is unchanged). */
function renameSession(li, s) {
  const input = el('input', { value: sessionName(s), maxLength: 80, ariaLabel: 'New name' });
  const done = (save) => {
    if (save) {
      const name = input.value.trim();
      if (name) uiSet(NAME_PREFIX + s.session_id, name);
      else uiRemove(NAME_PREFIX + s.session_id);
    }
    refreshSessions();
    $('session-list').querySelector(`li[data-session-id="${s.session_id}"] .session-open`)?.focus();
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== 'Escape') return;
    // Else the key would go on to the session's button once it has the focus, and open it.
    ev.preventDefault();
    done(ev.key === 'Enter');
  });
  const form = el('span', { className: 'rename' }, input, el('button', { type: 'button', className: 'primary small', textContent: 'Save', onclick: () => done(true) }));
  li.replaceChildren(form);
  input.focus();
  input.select();
}

function render() {
  renderPanels();
  renderLog();
  setBusy(app.busy);
}

// --- session management --------------------------------------------------------------------

function openSession(id) {
  if (app.busy) return;
  let v;
  try {
    v = view(id);
  } catch (e) {
    reportError(e);
    return;
  }
  app.current = { id, view: v, transcript: loadTranscript(id) };
  uiSet(CURRENT_ITEM, id);
  render();
  refreshSessions();
  closeSessionsOnNarrow();
  $('composer-text').focus();
}

function newSession() {
  if (app.busy || !app.engine) return;
  app.current = null;
  uiRemove(CURRENT_ITEM);
  render();
  refreshSessions();
  closeSessionsOnNarrow();
  showView('chat');
  $('composer-text').focus();
}

function deleteSession(id, name) {
  if (app.busy) return;
  if (!window.confirm(`Delete “${name}” and its draft agent? This cannot be undone.`)) return;
  try {
    kiln.deleteSession(id);
  } catch (e) {
    if (e.name !== 'not-found') {
      reportError(e);
      return;
    }
  }
  uiRemove(TRANSCRIPT_PREFIX + id);
  uiRemove(NAME_PREFIX + id);
  if (app.current && app.current.id === id) newSession();
  refreshSessions();
  $('new-session').focus();
}

function closeSessionsOnNarrow() {
  document.body.classList.remove('sessions-open');
  $('sessions-toggle').setAttribute('aria-expanded', 'false');
}

/** On a phone, the chat and the agent take turns on the screen. */
function showView(which) {
  document.body.dataset.view = which;
  if (which === 'agent') $('hide-agent').focus();
}

// --- actions ---------------------------------------------------------------------------------

function exportAgent() {
  if (!app.current) return;
  let text;
  try {
    text = kiln.exportAgent(app.current.id);
  } catch (e) {
    reportError(e);
    return;
  }
  // The guest hands compact JSON; the file is indented like `kiln agent export`'s.
  const spec = JSON.parse(text);
  const name = String(spec.name || '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'agent';
  const url = URL.createObjectURL(new Blob([JSON.stringify(spec, null, 2)], { type: 'application/json' }));
  const a = el('a', { href: url, download: `${name}.agent.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** After a dialog or an edit: the first suggested answer, else the message box. */
function focusNext() {
  ($('actions').querySelector('button:not(:disabled)') || $('composer-text')).focus();
}

/** Asks with `dialog` and resolves with its return value once it closes. */
function ask(dialog) {
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
}

async function connect(label) {
  const pending = app.current && app.current.view.pending_oauth;
  if (!pending) {
    pushEntry({ role: 'error', text: 'Nothing is waiting for an account connection right now.' });
    return;
  }
  const name = providerName(pending.provider);
  let why = 'offline: no Kiln server behind this page';
  if (app.server) {
    why = `this server has no sign-in configured for ${name}`;
    if (app.server.sign_in.includes(pending.provider)) {
      try {
        const returnTo = location.origin + location.pathname;
        const url = await server.startOauth({ provider: pending.provider, state: pending.state, scopes: pending.scopes, returnTo });
        location.assign(url);
        return;
      } catch (e) {
        if (!e.notConfigured) {
          pushEntry({ role: 'error', text: e.message });
          return;
        }
        // Its configuration changed since the page asked: simulated, as kiln serve does.
      }
    }
  }
  // Offline, or no provider on the server: the consent screen is simulated.
  const dialog = $('oauth-dialog');
  dialog.querySelector('.sim').textContent = `Simulated sign-in (${why}): no account is contacted.`;
  $('oauth-title').textContent = label;
  $('oauth-text').textContent = `Kiln asks for access to your ${name} account with these permissions:`;
  $('oauth-scopes').replaceChildren(...pending.scopes.map((s) => el('li', {}, el('code', { textContent: s }))));
  const answer = await ask(dialog);
  if (answer !== 'approve' && answer !== 'deny') {
    focusNext();
    return;
  }
  const approved = answer === 'approve';
  await runTurn(`${approved ? 'Allowed' : 'Denied'} access to ${name} (simulated sign-in)`,
    (Turn, id, llm) => Turn.oauth(id, pending.state, approved, llm), focusNext);
}

/** The searchable list of every time zone, in the suggestions' row. */
function pickZone() {
  const box = $('actions');
  const list = el('datalist', { id: 'zone-list' }, ...zones().map((z) => el('option', { value: z })));
  const input = el('input', { type: 'text', ariaLabel: 'Time zone (type to search)', placeholder: 'Type a city or region, e.g. Europe/Paris' });
  input.setAttribute('list', 'zone-list');
  const form = el('form', { className: 'tz-search' }, input, list, el('button', { className: 'primary', type: 'submit', textContent: 'Use it' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const zone = zones().find((z) => z.toLowerCase() === input.value.trim().toLowerCase());
    if (!zone) {
      input.setCustomValidity('Pick a time zone from the list, e.g. Europe/Paris or UTC.');
      input.reportValidity();
      return;
    }
    runTurn(zone, (Turn, id, llm) => Turn.message(id, zone, llm), focusNext);
  });
  input.addEventListener('input', () => input.setCustomValidity(''));
  box.replaceChildren(form);
  input.focus();
}

function onAction(a) {
  switch (a.kind) {
    case 'connect':
      return connect(a.label);
    case 'export':
      return exportAgent();
    case 'go_back':
      return runTurn(a.label, (Turn, id, llm) => Turn.back(id, llm));
    case 'other_zone':
      return pickZone();
    case 'change': {
      const t = $('composer-text');
      t.placeholder = 'Tell Kiln what to change, e.g. “make it 8 instead” or “post to #ops”, or click a detail on the right';
      t.focus();
      return undefined;
    }
    default:
      return runTurn(a.label, (Turn, id, llm) => Turn.message(id, a.value, llm));
  }
}

function send(text) {
  const t = text.trim();
  if (!t) return Promise.resolve();
  return runTurn(t, (Turn, id, llm) => Turn.message(id, t, llm));
}

// --- direct editing: each change is a message to the engine -----------------------------------

/** The editor of one detail: its fields, and the message that makes the change. */
function editor(field, current) {
  if (field === 'time') {
    const input = el('input', { id: 'edit-time', type: 'time', required: true, value: current || '09:00' });
    return { title: 'Change the time', body: [el('label', { htmlFor: 'edit-time', textContent: 'Runs at' }), input], message: () => `make it ${input.value}` };
  }
  if (field === 'days') {
    const on = parseDays(current);
    const boxes = DAY_NAMES.map((d, i) => el('input', { type: 'checkbox', name: 'day', value: d, checked: on.has(i) }));
    const group = el('fieldset', { className: 'days' }, el('legend', { className: 'visually-hidden', textContent: 'Days' }),
      ...boxes.map((b) => el('label', {}, b, b.value.slice(0, 3))));
    return {
      title: 'Change the days',
      body: [el('p', { textContent: 'Runs on:' }), group],
      message: () => {
        const picked = boxes.filter((b) => b.checked).map((b) => DAY_NAMES.indexOf(b.value));
        if (!picked.length) {
          boxes[0].setCustomValidity('Pick at least one day.');
          boxes[0].reportValidity();
          return null;
        }
        return daysSentence(picked);
      },
    };
  }
  if (field === 'timezone') {
    const input = el('input', { id: 'edit-zone', type: 'text', required: true, value: current || browserZone() || 'UTC' });
    input.setAttribute('list', 'edit-zones');
    const list = el('datalist', { id: 'edit-zones' }, ...zones().map((z) => el('option', { value: z })));
    return {
      title: 'Change the time zone',
      body: [el('label', { htmlFor: 'edit-zone', textContent: 'Time zone (type to search)' }), input, list,
        el('p', { className: 'muted small-text', textContent: `This device is in ${browserZone() || 'an unknown zone'}.` })],
      message: () => {
        const zone = zones().find((z) => z.toLowerCase() === input.value.trim().toLowerCase());
        if (!zone) {
          input.setCustomValidity('Pick a time zone from the list, e.g. Europe/Paris or UTC.');
          input.reportValidity();
          return null;
        }
        return `time zone ${zone}`;
      },
    };
  }
  if (field === 'channel') {
    const input = el('input', { id: 'edit-channel', type: 'text', required: true, value: current || '#', pattern: '#?[A-Za-z0-9][\\w\\-]*' });
    return {
      title: 'Change the channel',
      body: [el('label', { htmlFor: 'edit-channel', textContent: 'Post to channel' }), input],
      message: () => {
        if (!input.checkValidity()) {
          input.reportValidity();
          return null;
        }
        const name = input.value.trim();
        return `change the channel to ${name.startsWith('#') ? name : `#${name}`}`;
      },
    };
  }
  return null;
}

/** Opens the editor of `field`; the change goes to the engine as a normal turn. */
async function edit(field) {
  if (app.busy || !app.current) return;
  const current = app.current.view.requirements.find((r) => r.field === field)?.value ?? '';
  const e = editor(field, current);
  if (!e) return;
  const dialog = $('edit-dialog');
  $('edit-title').textContent = e.title;
  $('edit-body').replaceChildren(...e.body);
  const save = $('edit-save');
  let message = null;
  const check = (ev) => {
    message = e.message();
    if (!message) ev.preventDefault();
  };
  save.addEventListener('click', check);
  const answer = await ask(dialog);
  save.removeEventListener('click', check);
  const refocus = () => (document.querySelector(`#requirements dd[data-field="${field}"] button, #flow button[data-field="${field}"]`) || $('composer-text')).focus();
  if (answer !== 'save' || !message) {
    refocus();
    return;
  }
  await runTurn(message, (Turn, id, llm) => Turn.message(id, message, llm), refocus);
}

/** Back from the provider's consent screen: `?oauth_state=..&oauth_result=approved|denied`. */
async function oauthReturn() {
  const q = new URLSearchParams(location.search);
  const state = q.get('oauth_state');
  if (!state) return;
  // Back from a provider, so there was a server: whether it is still there decides how the
  // guest goes on, so this turn waits for the check that every other turn runs without.
  await app.probing;
  const approved = q.get('oauth_result') === 'approved';
  history.replaceState(null, '', location.pathname + location.hash);
  let owner = null;
  try {
    for (const s of JSON.parse(kiln.listSessions())) {
      if (view(s.session_id).pending_oauth?.state === state) owner = s.session_id;
    }
  } catch (e) {
    reportError(e);
    return;
  }
  if (!owner) {
    pushEntry({ role: 'error', text: 'That sign-in result does not belong to any conversation waiting in this browser; nothing changed.' });
    return;
  }
  openSession(owner);
  const provider = providerName(app.current.view.pending_oauth.provider);
  await runTurn(`${approved ? 'Allowed' : 'Denied'} access to ${provider}`, (Turn, id, llm) => Turn.oauth(id, state, approved, llm), focusNext);
}

// --- start -------------------------------------------------------------------------------------

/**
 * Resolves after the next frame's layout and paint (a task queued from its animation frame
 * callback runs after them); at once in a hidden tab, which draws no frames.
 */
function afterNextFrame() {
  return new Promise((resolve) => {
    if (document.visibilityState === 'hidden') {
      resolve();
      return;
    }
    requestAnimationFrame(() => setTimeout(resolve, 0));
    document.addEventListener('visibilitychange', resolve, { once: true });
  });
}

/** Resolves once the engine is loaded (and a session it opened drawn); a turn asked for earlier waits for it. */
let markReady;
const engineReady = new Promise((resolve) => { markReady = resolve; });

/** The message box grows with its text, up to its maximum height. */
function fitComposer() {
  const t = $('composer-text');
  t.style.height = 'auto';
  t.style.height = `${t.scrollHeight + 2}px`;
}

function openSettings() {
  $('api-key').value = server.apiKey();
  closeSessionsOnNarrow();
  $('settings-dialog').showModal();
}

function wire() {
  $('composer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('composer-text');
    const text = t.value;
    if (!text.trim() || app.busy) return;
    t.value = '';
    t.style.height = '';
    send(text);
  });
  $('composer-text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer-text').addEventListener('input', fitComposer);
  $('btn-back').onclick = () => runTurn('Back', (Turn, id, llm) => Turn.back(id, llm));
  $('btn-status').onclick = () => send('status');
  $('btn-reset').onclick = () => send('start over');
  $('new-session').onclick = newSession;
  $('export').onclick = exportAgent;
  $('conn').onclick = checkServer;
  $('show-agent').onclick = () => showView('agent');
  $('hide-agent').onclick = () => {
    showView('chat');
    $('show-agent').focus();
  };
  $('sessions-toggle').onclick = () => {
    const open = document.body.classList.toggle('sessions-open');
    $('sessions-toggle').setAttribute('aria-expanded', String(open));
    if (open) $('new-session').focus();
  };
  $('settings-open').onclick = openSettings;
  $('settings-open-narrow').onclick = openSettings;
  $('settings-dialog').addEventListener('close', () => {
    if ($('settings-dialog').returnValue === 'save') {
      server.setApiKey($('api-key').value.trim());
      if ($('mode-banner').dataset.kind === 'key') $('mode-banner').hidden = true;
      checkServer();
    }
  });
}

/** Says the page is drawn and takes messages (`data-ready`, the mark `kiln:ready`). */
function pageReady() {
  document.body.dataset.ready = 'true';
  performance.mark('kiln:ready');
}

async function main() {
  if (location.protocol === 'file:') return;
  wire();
  checkServer();
  const id = uiGet(CURRENT_ITEM);
  // With no session open and no sign-in coming back, the page draws nothing from the engine:
  // it is ready once a frame has drawn it, as a page without an engine would be, while the
  // engine is still on its way; a message sent before the engine has loaded waits for it
  // (runTurn), so the engine's download and compile overlap the page's first frame and the
  // person's typing instead of coming before them (docs/web.md).
  const empty = !id && !new URLSearchParams(location.search).has('oauth_state');
  let shown = null;
  if (empty) {
    render();
    shown = afterNextFrame().then(pageReady);
  }
  try {
    await init({ module_or_path: window.kilnEngine });
    performance.mark('kiln:engine');
  } catch (e) {
    // A static host sending the wasm with another type is a server setting, not a bad build.
    const fix = /MIME/i.test(e.message)
      ? 'Serve .wasm files as application/wasm and reload.'
      : 'Rebuild the site with web/build.sh and reload.';
    fatal('The engine did not load',
      `Kiln could not load its WebAssembly engine (pkg/kiln_web_bg.wasm): ${e.message.replace(/\.$/, '')}. ${fix}`,
      [['Reload', () => location.reload()]]);
    return;
  }
  app.engine = true;
  document.body.dataset.engine = 'true';
  if (empty) {
    markReady();
    // After the page's ready frame, not before it: the list (and the server's integrations'
    // names, below) are not on the way to a first answer. A message already sent lists the
    // sessions once it is answered.
    await shown;
    if (!app.busy) refreshSessions();
  } else {
    if (id) {
      try {
        app.current = { id, view: view(id), transcript: loadTranscript(id) };
      } catch (e) {
        app.current = null;
        if (unreadable(e)) corrupt(e);
        else uiRemove(CURRENT_ITEM);
      }
    }
    render();
    refreshSessions();
    // Ready once a frame has drawn the page as rendered above (the stepper, the transcript,
    // the session list: most of the page's layout, paint and raster). A turn then runs while
    // that frame is rasterized and shown, and the frame with its answer only has the answer
    // to draw (docs/web.md).
    await afterNextFrame();
    pageReady();
    markReady();
  }
  // The server's answer may have come before the engine could name its integrations.
  if (app.server) setMode(app.server);
  await oauthReturn();
}

main();
