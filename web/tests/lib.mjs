// Shared helpers of the browser tests: headless Debian Chromium through playwright-core, and
// the page's own ways of being driven (the keyboard, its buttons) and read (its DOM, and the
// guest module it loaded).
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  context.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(e)));
  for (const p of context.pages()) p.on('pageerror', (e) => pageErrors.push(e));
  return {
    context,
    pageErrors,
    async close() {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the builder and waits until it is ready for input. */
export async function open(page, path = '') {
  await page.goto(new URL(path, BASE).href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
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

/** Checks that the stepper, actions, requirements and draft panels show what the guest says. */
export async function checkPanels(page) {
  const v = await currentSession(page);
  const stepper = await page.$$eval('#stepper li', (lis) => lis.map((li) => [li.dataset.phase, li.dataset.state]));
  assert.equal(stepper.length, 8, 'eight phases in the stepper');
  assert.deepEqual(stepper.filter(([, s]) => s === 'current').map(([p]) => p), [v.phase], 'the stepper shows the guest\'s phase');
  const rows = await page.$$eval('#requirements tbody tr', (trs) => trs.map((tr) => [tr.dataset.field, tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].textContent]));
  assert.deepEqual(rows, v.requirements.map((r) => [r.field, r.field, r.value, `turn ${r.turn}`]), 'requirements with their turns');
  if (v.draft_agent_id) {
    const spec = await guest(page, (kiln, i) => JSON.parse(kiln.exportAgent(i)), v.session_id);
    assert.equal(await page.locator('#draft .agent-name').innerText(), spec.name, 'the draft panel shows the stored draft');
    assert.equal(await page.getAttribute('#draft', 'data-draft-id'), v.draft_agent_id);
    assert.equal(await page.locator('#export').isEnabled(), true);
    const run = await guest(page, (kiln, i) => JSON.parse(kiln.dryRun(i)), v.session_id);
    assert.equal(await page.locator('#dryrun .runs > li').count(), run.steps.length, 'one dry-run entry per step');
  } else {
    assert.equal(await page.locator('#export').isEnabled(), false, 'no export without a draft');
  }
  return v;
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

/** Runs `body` with a fresh browser, failing on uncaught page errors; reports to stdout. */
export async function scenario(name, body) {
  const b = await launch();
  try {
    await body(b);
    assert.deepEqual(b.pageErrors.map(String), [], 'no uncaught errors in the page');
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
  assert.equal(await page.locator('#requirements tr[data-field="time"] td.turn').innerText(), `turn ${v.turn}`, 'the time shows the turn that set it');
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  assert.match(await page.locator('#draft-trigger').innerText(), /0 8 \* \* 1-5/);
  r = await act(page, 'accept');
  assert.equal(r.phase, 'ACTIVATION');
  r = await act(page, 'confirm', 'Activate');
  assert.equal(r.phase, 'COMPLETE');
  v = await checkPanels(page);
  assert.deepEqual(v.history.map((h) => h.to), ['DISCOVERY', 'OAUTH_FLOW', 'DISCOVERY', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'ACTIVATION', 'COMPLETE', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'ACTIVATION', 'COMPLETE']);
  return v;
}
