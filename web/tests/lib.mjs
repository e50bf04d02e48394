// Shared helpers of the browser tests: headless Debian Chromium through playwright-core, and
// the page's own ways of being driven (the keyboard, its buttons) and read (its DOM, and the
// guest module it loaded).
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

/** The site under test (the Rust test starts the server and sets it). */
export const BASE = process.env.KILN_WEB_URL || 'http://127.0.0.1:8000/';
/** Where screenshots go. */
export const ARTIFACTS = process.env.KILN_ARTIFACTS || join(process.cwd(), 'artifacts');

/** The request the README and the CLI tests use. */
export const REQUEST = 'Every weekday at 9, summarise my unread Gmail and post it to Slack #team';

/** A fresh browser profile (empty localStorage) in headless Chromium. */
export async function launch(options = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.KILN_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1366, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
  const pageErrors = [];
  const consoleErrors = [];
  const watch = (p) => {
    p.on('pageerror', (e) => pageErrors.push(e));
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  return {
    context,
    pageErrors,
    consoleErrors,
    async close() {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The builder drawn and its engine loaded. The empty page says it is ready (`data-ready`)
 * before its engine has loaded (a message sent then waits for it); the tests wait for both.
 */
export const LOADED = 'body[data-ready="true"][data-engine="true"]';

/** Opens the builder and waits until it is ready for input and its engine has loaded. */
export async function open(page, path = '') {
  await page.goto(new URL(path, BASE).href);
  await page.waitForSelector(LOADED, { timeout: 15000 });
}

/** Waits for a running turn (and its text streaming) to finish. */
export async function idle(page) {
  await page.waitForFunction(() => document.body.dataset.busy === 'false' && !document.querySelector('.msg.streaming'));
}

/** Types a message with the keyboard and sends it with Enter; returns the response. */
export async function say(page, text) {
  const before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.focus('#composer-text');
  await page.keyboard.type(text, { delay: 0 });
  await page.keyboard.press('Enter');
  return response(page, before);
}

/** Clicks the action button of `kind` (its label must contain `label`, if given). */
export async function act(page, kind, label) {
  const before = await page.locator('.msg.kiln:not(.greeting)').count();
  const button = page.locator(`#actions button[data-kind="${kind}"]`).filter(label ? { hasText: label } : {});
  await button.first().click();
  return response(page, before);
}

/** Waits for response number `before + 1` and returns its phase and chunk texts. */
export async function response(page, before) {
  await page.waitForFunction((n) => document.querySelectorAll('.msg.kiln:not(.greeting)').length > n || document.querySelector('.msg.error:last-child'), before);
  await idle(page);
  const error = await page.locator('#log > .msg:last-child.error').count();
  if (error) throw new Error(`the page reported an error: ${await page.locator('#log > .msg:last-child').innerText()}`);
  return page.evaluate(() => {
    const msgs = document.querySelectorAll('.msg.kiln:not(.greeting)');
    const last = msgs[msgs.length - 1];
    const chunks = [...last.querySelectorAll('.chunk')];
    return { phase: chunks.length ? chunks[chunks.length - 1].dataset.phase : null, texts: chunks.map((c) => c.textContent), chunkPhases: chunks.map((c) => c.dataset.phase) };
  });
}

/**
 * Calls the guest in the page: an instance of its own of the engine the page runs (the page
 * carries its modules inline), over the same localStorage, where all of the guest's state is.
 */
export function guest(page, fn, arg) {
  return page.evaluate(async ([src, a]) => {
    const kiln = await import('/pkg/kiln_web.js');
    await kiln.default();
    // eslint-disable-next-line no-new-func
    return new Function('kiln', 'arg', `return (${src})(kiln, arg);`)(kiln, a);
  }, [fn.toString(), arg]);
}

/** The open session's view, as the guest reports it. */
export async function currentSession(page) {
  const id = await page.evaluate(() => localStorage.getItem('kiln-ui/v1/current'));
  assert.ok(id, 'the page remembers the open session');
  return guest(page, (kiln, i) => JSON.parse(kiln.getSession(i)), id);
}

/** Checks that the stepper, details, flow and spec panels show what the guest says. */
export async function checkPanels(page) {
  const v = await currentSession(page);
  const stepper = await page.$$eval('#stepper li', (lis) => lis.map((li) => [li.dataset.phase, li.dataset.state]));
  assert.equal(stepper.length, 8, 'eight phases in the stepper');
  assert.deepEqual(stepper.filter(([, s]) => s === 'current').map(([p]) => p), [v.phase], 'the stepper shows the guest\'s phase');
  // The field ids, values and turns: only under "Technical details".
  const rows = await page.$$eval('#fields tbody tr', (trs) => trs.map((tr) => [tr.dataset.field, tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].textContent]));
  assert.deepEqual(rows, v.requirements.map((r) => [r.field, r.field, r.value, `turn ${r.turn}`]), 'requirements with their turns');
  // The same requirements in plain words, one entry each (and the time zone to set when missing).
  const details = await page.$$eval('#requirements dd', (dds) => dds.map((dd) => dd.dataset.field));
  assert.deepEqual(details.filter((f) => v.requirements.some((r) => r.field === f)), v.requirements.map((r) => r.field), 'one detail per requirement');
  for (const field of ['time', 'timezone', 'channel']) {
    const r = v.requirements.find((q) => q.field === field);
    if (r) assert.match(await page.locator(`#requirements dd[data-field="${field}"]`).innerText(), new RegExp(r.value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), `the ${field} shown is the guest's`);
  }
  await plainWords(page);
  if (v.draft_agent_id) {
    const spec = await guest(page, (kiln, i) => JSON.parse(kiln.exportAgent(i)), v.session_id);
    assert.equal(await page.locator('#draft .agent-name').innerText(), spec.name, 'the spec panel shows the stored draft');
    assert.equal(await page.locator('#agent-title').innerText(), spec.name, 'the agent is titled with the draft\'s name');
    assert.equal(await page.getAttribute('#draft', 'data-draft-id'), v.draft_agent_id);
    assert.deepEqual(JSON.parse(await page.locator('#spec-json').textContent()), spec, 'the JSON under Technical details is the stored spec');
    assert.equal(await page.locator('#export').isEnabled(), true);
    const run = await guest(page, (kiln, i) => JSON.parse(kiln.dryRun(i)), v.session_id);
    const nodes = await page.$$eval('#flow li.node', (lis) => lis.map((li) => ({ role: li.dataset.role, step: li.dataset.step, text: li.innerText })));
    assert.equal(nodes[0].role, 'trigger', 'the flow starts with its trigger');
    assert.deepEqual(nodes.slice(1).map((n) => n.step), run.steps.map((s) => s.id), 'one node per step, in order');
    run.steps.forEach((s, i) => {
      const out = Object.values(s.outputs)[0];
      if (out && !out.startsWith('sample-')) assert.ok(nodes[i + 1].text.includes(out.slice(0, 30)), `step ${s.id} shows its sample output: ${nodes[i + 1].text}`);
    });
    assert.equal(nodes.at(-1).role, 'destination', 'the flow ends at its destination');
  } else {
    assert.equal(await page.locator('#export').isEnabled(), false, 'no export without a draft');
    assert.equal(await page.locator('#agent-title').innerText(), 'Your agent');
  }
  return v;
}

/** Field and action ids appear only under "Technical details" (and in the export). */
export async function plainWords(page) {
  const shown = await page.evaluate(() => {
    const panel = document.getElementById('agent').cloneNode(true);
    panel.querySelector('#tech')?.remove();
    return `${panel.innerText}\n${document.getElementById('stepper').innerText}\n${document.getElementById('session-list').innerText}`;
  });
  for (const id of ['email_filter', 'post_message', 'search_messages', 'llm.', 'gmail.', 'slack.', 'REQUIREMENTS', 'OAUTH_FLOW', 'integrations']) {
    assert.ok(!shown.includes(id), `"${id}" is shown outside the technical details:\n${shown}`);
  }
}

/** axe-core's source, injected into pages by `axe()`. */
const AXE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is (WCAG 2.1 A and AA and axe's best practices) and fails
 * with every violation found; `label` names the state in the message.
 */
export async function axe(page, label) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ content: await AXE });
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`).join('\n    ')}`);
  });
  assert.deepEqual(violations, [], `axe-core violations (${label})`);
}

/** The action buttons shown: [kind, label, value]. */
export function actions(page) {
  return page.$$eval('#actions button', (bs) => bs.map((b) => [b.dataset.kind, b.textContent, b.dataset.value]));
}

/** Saves a screenshot of the page under ARTIFACTS; returns its path. */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Runs `body` with a fresh browser, failing on uncaught page errors and, unless
 * `consoleErrors: 'allow'`, on errors in the console (a failed request logs one); reports to
 * stdout. Other options go to the browser context (viewport, timezoneId, colorScheme).
 */
export async function scenario(name, body, { consoleErrors, ...options } = {}) {
  const b = await launch(options);
  try {
    await body(b);
    assert.deepEqual(b.pageErrors.map(String), [], 'no uncaught errors in the page');
    if (consoleErrors !== 'allow') assert.deepEqual(b.consoleErrors, [], 'no errors in the console');
    console.log(`ok ${name}`);
  } finally {
    await b.close();
  }
}

/**
 * Answers the pending connection through the simulated consent screen (offline), with the
 * keyboard: focus "Connect …", Enter, then Enter on "Allow access" or Tab back to "Deny".
 */
export async function consent(page, approve) {
  const before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.focus('#actions button[data-kind="connect"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#oauth-dialog[open]');
  assert.match(await page.locator('#oauth-dialog .sim').innerText(), /Simulated/, 'the dialog says the sign-in is simulated');
  if (!approve) await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  return response(page, before);
}

/**
 * One iteration from COMPLETE: "make it 8 instead" changes the time and nothing else, is
 * built, accepted and activated again. Returns the guest's view at the end.
 */
export async function iterateToEight(page) {
  const before = await currentSession(page);
  assert.equal(before.phase, 'COMPLETE');
  let r = await say(page, 'make it 8 instead');
  assert.equal(r.phase, 'REQUIREMENTS');
  let v = await checkPanels(page);
  assert.equal(v.iteration, 1);
  const changed = v.requirements.filter((q) => JSON.stringify(q) !== JSON.stringify(before.requirements.find((p) => p.field === q.field)));
  assert.deepEqual(changed.map((q) => [q.field, q.value]), [['time', '08:00']]);
  assert.equal(await page.locator('#fields tr[data-field="time"] td.turn').textContent(), `turn ${v.turn}`, 'the time shows the turn that set it');
  assert.match(await page.locator('#requirements dd[data-field="time"]').innerText(), /08:00/);
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  assert.match(await page.locator('#flow li.node.trigger').innerText(), /at 08:00/, 'the picture shows the new time');
  assert.match(await page.locator('#spec-json').textContent(), /"cron": "0 8 \* \* 1-5"/);
  r = await act(page, 'accept');
  assert.equal(r.phase, 'ACTIVATION');
  r = await act(page, 'confirm', 'Activate');
  assert.equal(r.phase, 'COMPLETE');
  v = await checkPanels(page);
  assert.deepEqual(v.history.map((h) => h.to), ['DISCOVERY', 'OAUTH_FLOW', 'DISCOVERY', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'ACTIVATION', 'COMPLETE', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'ACTIVATION', 'COMPLETE']);
  return v;
}
