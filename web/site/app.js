// The builder UI: renders what the guest (pkg/kiln_web.js, kiln-core compiled to wasm)
// reports, and drives its turns. Sessions live in localStorage through the guest; this file
// keeps only the rendered transcript of each session (kiln-ui/v1/...) beside them.

import init, * as kiln from './pkg/kiln_web.js';
import * as server from './server.js';

const UI = 'kiln-ui/v1/';
const CURRENT_ITEM = `${UI}current`;
const TRANSCRIPT_PREFIX = `${UI}transcripts/`;
const MAX_TRANSCRIPT = 400;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c != null) node.append(c);
  return node;
};

const app = {
  online: false,
  probing: null,
  phases: [],
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

/** Handles a corrupt stored record: explain, offer to drop it or to start fresh. */
function corrupt(e) {
  const key = e.key;
  const buttons = [];
  if (key) {
    buttons.push([`Remove the damaged record`, () => {
      try {
        kiln.discardRecord(key);
      } catch (err) {
        console.warn(err);
      }
      const id = /^sessions\/(.+)\.json$/.exec(key)?.[1];
      if (id) uiRemove(TRANSCRIPT_PREFIX + id);
      if (app.current && id === app.current.id) app.current = null;
      closeFatal();
      refreshSessions();
      render();
    }, 'ghost']);
  }
  buttons.push(['Start fresh (erase all Kiln data in this browser)', startFresh]);
  fatal('Some saved data is damaged',
    `Kiln found data in this browser's storage that it cannot read, and left it untouched. ${e.message}`,
    buttons);
}

/** Reports a failed call to the guest in the conversation (or the panel when corrupt). */
function reportError(e) {
  if (e && e.name === 'corrupt') return corrupt(e);
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

function setMode(online) {
  app.online = online;
  document.body.dataset.mode = online ? 'online' : 'offline';
  $('conn-text').textContent = online
    ? 'Online: kiln serve (LLM proxy, real sign-in)'
    : 'Offline: rule-based, sign-in simulated';
  $('conn').setAttribute('aria-label', `${$('conn-text').textContent}. Check again`);
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
 * Runs a turn made by `make(sessionId, online)`, showing `said` as the person's message.
 * Creates the session first if there is none.
 */
async function runTurn(said, make) {
  if (app.busy) return;
  setBusy(true);
  try {
    // Sent while the engine was still loading: answered as soon as it is ready.
    await engineReady;
    if (!app.current) {
      const v = JSON.parse(kiln.startSession());
      app.current = { id: v.session_id, view: v, transcript: [] };
      uiSet(CURRENT_ITEM, v.session_id);
    }
    const c = app.current;
    if (said) pushEntry({ role: 'user', text: said });
    let chunks;
    try {
      chunks = await drive(make(c.id, app.online));
      if (!performance.getEntriesByName('kiln:first-chunks').length) performance.mark('kiln:first-chunks');
    } catch (e) {
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
    const node = renderEntry(entry, true);
    $('log').append(node);
    const streamed = stream(node);
    // The text goes on screen first: the panels (a larger layout) follow a frame later.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    c.view = view(c.id);
    renderPanels();
    await streamed;
    renderActions(entry.actions);
    if (!performance.getEntriesByName('kiln:first-response').length) performance.mark('kiln:first-response');
    refreshSessions();
  } catch (e) {
    reportError(e);
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  app.busy = busy;
  document.body.dataset.busy = String(busy);
  $('log').setAttribute('aria-busy', String(busy));
  for (const b of document.querySelectorAll('#composer button, .toolbar button, #actions button')) b.disabled = busy;
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
  log.append(el('div', { className: 'msg kiln greeting' },
    el('span', { className: 'who', textContent: 'Kiln' }),
    el('p', { textContent: 'What should your agent do? For example: “Every weekday at 9, summarise my unread Gmail and post it to Slack #team”.' })));
  for (const e of t) log.append(renderEntry(e, false));
  scrollLog();
  const last = [...t].reverse().find((e) => e.role === 'kiln');
  renderActions(last ? last.actions : []);
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
    const li = el('li', { className: state, title: p.title },
      el('span', { className: 'num', textContent: String(i + 1) }),
      el('span', { className: 'label', textContent: p.title }));
    li.dataset.phase = p.name;
    li.dataset.state = state;
    if (state === 'current') li.setAttribute('aria-current', 'step');
    return li;
  }));
}

function renderActions(actions) {
  const box = $('actions');
  box.replaceChildren(...actions.map((a) => {
    const b = el('button', { className: a.kind === 'confirm' || a.kind === 'accept' || a.kind === 'connect' ? 'primary' : 'ghost', textContent: a.label, type: 'button' });
    b.dataset.kind = a.kind;
    b.dataset.value = a.value;
    b.onclick = () => onAction(a);
    b.disabled = app.busy;
    return b;
  }));
}

function renderPanels() {
  renderStepper();
  const v = app.current ? app.current.view : null;
  // Requirements, each with the turn that set it.
  const rows = v ? v.requirements : [];
  $('requirements').tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = el('tr', {}, el('th', { scope: 'row', textContent: r.field }), el('td', { textContent: r.value }), el('td', { className: 'turn', textContent: `turn ${r.turn}` }));
    tr.dataset.field = r.field;
    return tr;
  }));
  $('requirements').hidden = rows.length === 0;
  $('req-empty').hidden = rows.length > 0;
  $('connected').textContent = v && v.connected.length ? `Connected: ${v.connected.join(', ')}` : '';
  // The pending connection.
  const pending = v && v.pending_oauth;
  $('pending').hidden = !pending;
  if (pending) {
    // Formatted by hand: the first toLocaleTimeString of a page loads ICU's date data
    // (~20 ms here), on the first response's path.
    const d = new Date(pending.expires_at_ms);
    const until = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    $('pending-text').textContent = `${pending.provider} (${pending.scopes.join(', ')}), until ${until}. Use “Connect” below.`;
  }
  renderDraft(v);
}

function renderDraft(v) {
  const box = $('draft');
  const card = $('dryrun-card');
  if (!v || !v.draft_agent_id) {
    box.replaceChildren(el('p', { className: 'muted', textContent: 'No draft yet: it appears once the requirements are confirmed.' }));
    $('export').disabled = true;
    card.hidden = true;
    return;
  }
  let spec;
  try {
    spec = JSON.parse(kiln.exportAgent(v.session_id));
  } catch (e) {
    if (e.name === 'corrupt') return corrupt(e);
    box.replaceChildren(el('p', { className: 'muted', textContent: e.message }));
    return;
  }
  box.dataset.draftId = v.draft_agent_id;
  const trig = spec.trigger || {};
  const when = trig.kind === 'schedule' ? `${trig.description} (${trig.cron}, ${trig.timezone})`
    : trig.kind === 'event' ? `when ${trig.integration} sends ${trig.event}` : 'started by hand';
  box.replaceChildren(
    el('p', { className: 'agent-name', textContent: spec.name }),
    el('p', { textContent: spec.description }),
    el('dl', {},
      el('dt', { textContent: 'Runs' }), el('dd', { id: 'draft-trigger', textContent: when }),
      el('dt', { textContent: 'Accounts' }), el('dd', { textContent: (spec.integrations || []).map((i) => i.provider).join(', ') || 'none' })),
    el('ol', { className: 'steps' }, ...(spec.steps || []).map((s) => el('li', {}, el('code', { textContent: s.action }), ` ${s.id}`))),
    el('details', {}, el('summary', { textContent: 'The spec as JSON' }), el('pre', { textContent: JSON.stringify(spec, null, 2) })),
  );
  $('export').disabled = false;
  // The dry run of the current draft.
  try {
    const run = JSON.parse(kiln.dryRun(v.session_id));
    card.hidden = false;
    $('dryrun').replaceChildren(
      el('p', {}, el('strong', { textContent: 'Trigger: ' }), run.trigger),
      el('ol', { className: 'runs' }, ...run.steps.map((s) => el('li', {},
        el('div', {}, el('code', { textContent: s.action }), ` ${s.id}`),
        ...Object.entries(s.inputs).map(([k, val]) => el('div', { className: 'io' }, `in ${k}: `, el('span', { textContent: val }))),
        ...Object.entries(s.outputs).map(([k, val]) => el('div', { className: 'io' }, `out ${k}: `, el('span', { textContent: val })))))),
      run.problems.length
        ? el('ul', { className: 'problems' }, ...run.problems.map((p) => el('li', { textContent: p })))
        : el('p', { className: 'ok', textContent: 'No problems found.' }),
    );
  } catch (e) {
    card.hidden = true;
    console.warn(e);
  }
}

function relativeTime(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

function refreshSessions() {
  let list;
  try {
    list = JSON.parse(kiln.listSessions());
  } catch (e) {
    reportError(e);
    return false;
  }
  const title = (p) => app.phases.find((x) => x.name === p)?.title ?? p;
  $('session-list').replaceChildren(...list.map((s) => {
    const open = el('button', { className: 'session-open', type: 'button', onclick: () => openSession(s.session_id) },
      el('span', { className: 'goal', textContent: s.goal || 'New conversation' }),
      el('span', { className: 'meta', textContent: `${title(s.phase)} · ${relativeTime(s.last_active_at_ms)}` }));
    const del = el('button', { className: 'ghost danger', type: 'button', textContent: 'Delete', onclick: () => deleteSession(s.session_id, s.goal) });
    del.setAttribute('aria-label', `Delete session: ${s.goal || 'new conversation'}`);
    const li = el('li', {}, open, del);
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
  if (app.busy || document.body.dataset.ready !== 'true') return;
  app.current = null;
  uiRemove(CURRENT_ITEM);
  render();
  refreshSessions();
  closeSessionsOnNarrow();
  $('composer-text').focus();
}

function deleteSession(id, goal) {
  if (app.busy) return;
  if (!window.confirm(`Delete the session “${goal || 'New conversation'}” and its draft agent? This cannot be undone.`)) return;
  try {
    kiln.deleteSession(id);
  } catch (e) {
    if (e.name !== 'not-found') {
      reportError(e);
      return;
    }
  }
  uiRemove(TRANSCRIPT_PREFIX + id);
  if (app.current && app.current.id === id) newSession();
  refreshSessions();
}

function closeSessionsOnNarrow() {
  document.body.classList.remove('sessions-open');
  $('sessions-toggle').setAttribute('aria-expanded', 'false');
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
  let name = 'agent';
  try {
    name = JSON.parse(text).name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'agent';
  } catch {
    // Keeps the generic name.
  }
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = el('a', { href: url, download: `${name}.agent.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function connect(label) {
  const pending = app.current && app.current.view.pending_oauth;
  if (!pending) {
    pushEntry({ role: 'error', text: 'Nothing is waiting for an account connection right now.' });
    return;
  }
  let why = 'offline';
  if (app.online) {
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
      // The server has no OAuth provider for this integration: like kiln serve does for its
      // own sessions, the consent is simulated.
      why = `this server has no sign-in configured for ${pending.provider}`;
    }
  }
  // Offline, or no provider on the server: the consent screen is simulated.
  const dialog = $('oauth-dialog');
  dialog.querySelector('.sim').textContent = `Simulated sign-in (${why}): no account is contacted.`;
  $('oauth-title').textContent = label;
  $('oauth-text').textContent = `Kiln asks for access to your ${pending.provider} account with these permissions:`;
  $('oauth-scopes').replaceChildren(...pending.scopes.map((s) => el('li', {}, el('code', { textContent: s }))));
  dialog.returnValue = '';
  dialog.showModal();
  const answer = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
  if (answer !== 'approve' && answer !== 'deny') return;
  const approved = answer === 'approve';
  await runTurn(`${approved ? 'Allowed' : 'Denied'} access to ${pending.provider} (simulated sign-in)`,
    (id, online) => kiln.Turn.oauth(id, pending.state, approved, online));
}

function onAction(a) {
  switch (a.kind) {
    case 'connect':
      return connect(a.label);
    case 'export':
      return exportAgent();
    case 'go_back':
      return runTurn(a.label, (id, online) => kiln.Turn.back(id, online));
    case 'change': {
      const t = $('composer-text');
      t.placeholder = 'Tell Kiln what to change, e.g. “make it 8 instead” or “post to #ops”';
      t.focus();
      return undefined;
    }
    default:
      return runTurn(a.label, (id, online) => kiln.Turn.message(id, a.value, online));
  }
}

function send(text) {
  const t = text.trim();
  if (!t) return Promise.resolve();
  return runTurn(t, (id, online) => kiln.Turn.message(id, t, online));
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
  const provider = app.current.view.pending_oauth.provider;
  await runTurn(`${approved ? 'Allowed' : 'Denied'} access to ${provider}`, (id, online) => kiln.Turn.oauth(id, state, approved, online));
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

/** Resolves once the engine is loaded and the page drawn; a turn asked for earlier waits for it. */
let markReady;
const engineReady = new Promise((resolve) => { markReady = resolve; });

function wire() {
  $('composer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('composer-text');
    const text = t.value;
    if (!text.trim() || app.busy) return;
    t.value = '';
    t.placeholder = 'Reply to Kiln…';
    send(text);
  });
  $('composer-text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('btn-back').onclick = () => runTurn('Back', (id, online) => kiln.Turn.back(id, online));
  $('btn-status').onclick = () => send('status');
  $('btn-reset').onclick = () => send('start over');
  $('new-session').onclick = newSession;
  $('export').onclick = exportAgent;
  $('conn').onclick = checkServer;
  $('sessions-toggle').onclick = () => {
    const open = document.body.classList.toggle('sessions-open');
    $('sessions-toggle').setAttribute('aria-expanded', String(open));
  };
  $('settings-open').onclick = () => {
    $('api-key').value = server.apiKey();
    $('settings-dialog').showModal();
  };
  $('settings-dialog').addEventListener('close', () => {
    if ($('settings-dialog').returnValue === 'save') {
      server.setApiKey($('api-key').value.trim());
      if ($('mode-banner').dataset.kind === 'key') $('mode-banner').hidden = true;
      checkServer();
    }
  });
}

async function main() {
  if (location.protocol === 'file:') return;
  wire();
  checkServer();
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
  app.phases = JSON.parse(kiln.phases());
  const id = uiGet(CURRENT_ITEM);
  if (id) {
    try {
      app.current = { id, view: view(id), transcript: loadTranscript(id) };
    } catch (e) {
      app.current = null;
      if (e.name === 'corrupt') corrupt(e);
      else uiRemove(CURRENT_ITEM);
    }
  }
  render();
  refreshSessions();
  // Ready once a frame has drawn the page as rendered above (the stepper, the greeting, the
  // session list: most of the page's layout, paint and raster). The first turn then runs
  // while that frame is rasterized and shown, and the frame with its answer only has the
  // answer to draw; ready at once, both went into that one frame (docs/web.md).
  await afterNextFrame();
  document.body.dataset.ready = 'true';
  performance.mark('kiln:ready');
  markReady();
  await oauthReturn();
}

main();
