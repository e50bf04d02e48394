// Offline, end to end in headless Chromium: a whole conversation to COMPLETE with the
// simulated OAuth step (one denial and a retry), going back once and one iteration; the
// session survives a reload and is listed; a second session is independent; the panels show
// what the guest reports; the export downloads the stored spec; the phone layout fits. A
// message sent before the engine has loaded (the empty page is ready without it) waits for it
// and is answered once; the page is ready only after a frame has drawn it, with nothing
// stored; a wasm with the wrong content
// type gets a message naming the fix.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BASE, LOADED, REQUEST, act, actions, checkPanels, consent, currentSession, guest, iterateToEight, open, response, say, scenario, screenshot } from './lib.mjs';

await scenario('offline conversation to COMPLETE, reload, sessions, export', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  assert.equal(await page.getAttribute('body', 'data-mode'), 'offline', 'a static server serves the site\'s own kiln-server.json: offline');
  assert.match(await page.locator('#conn').innerText(), /Offline/);
  assert.equal(await page.locator('#session-list li').count(), 0, 'no session before the first message');

  let r = await say(page, REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW');
  assert.match(r.texts.join('\n'), /connect your Gmail account/);
  assert.deepEqual((await actions(page)).map((a) => a[0]), ['connect', 'drop_integration']);
  let v = await checkPanels(page);
  assert.equal(v.pending_oauth.provider, 'gmail');
  assert.equal(await page.locator('#pending').isVisible(), true, 'the pending connection is shown');

  r = await consent(page, true);
  assert.deepEqual([r.phase, r.texts[0]], ['OAUTH_FLOW', 'Gmail is connected.']);
  r = await consent(page, false);
  assert.match(r.texts[0], /Slack was declined/);
  assert.deepEqual((await actions(page)).map((a) => a[0]), ['retry', 'drop_integration']);
  r = await act(page, 'retry');
  assert.equal(r.phase, 'OAUTH_FLOW');
  r = await consent(page, true);
  assert.equal(r.phase, 'REQUIREMENTS');
  v = await checkPanels(page);
  assert.deepEqual(v.connected, ['gmail', 'slack']);
  assert.equal(await page.locator('#pending').isVisible(), false);

  r = await say(page, 'London time');
  assert.equal(r.phase, 'REQUIREMENTS');
  assert.match(r.texts.at(-1), /Shall I build it\?/);
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  assert.match(r.texts[0], /^Here is the draft, tried on sample data:\nDry run:/);
  v = await checkPanels(page);
  assert.ok(v.draft_agent_id, 'a draft is stored');
  assert.match(await page.locator('#draft .ok').innerText(), /no problems found/, 'the dry run found no problems');
  assert.equal(await page.locator('#problems').isVisible(), false);
  const stepper = await page.$$eval('#stepper li', (lis) => lis.map((li) => li.dataset.state));
  assert.deepEqual(stepper, ['done', 'done', 'done', 'done', 'done', 'current', 'todo', 'todo']);

  // Back once, then on again.
  r = await act(page, 'go_back');
  assert.equal(r.phase, 'REQUIREMENTS');
  assert.match(r.texts[0], /^Back to filling in the details/);
  await checkPanels(page);
  r = await say(page, 'yes');
  assert.deepEqual([r.phase, r.texts[0].split(',')[0]], ['TESTING', 'Here is revision 2']);
  r = await act(page, 'accept');
  assert.equal(r.phase, 'ACTIVATION');
  r = await act(page, 'confirm', 'Activate');
  assert.equal(r.phase, 'COMPLETE');
  assert.deepEqual((await actions(page)).map((a) => a[0]), [], 'one export: the agent panel\'s, not a second one among the answers');
  assert.match(await page.locator('#agent-note').innerText(), /Saved in this browser\. Nothing runs here/, 'offline, activation says what it means');
  assert.equal(await page.locator('#agent-badge').innerText(), 'Ready, saved here');

  // One iteration: "make it 8 instead" changes the time and nothing else.
  v = await iterateToEight(page);

  // Export: the download is the stored spec.
  assert.equal(await page.locator('button:has-text("Export")').count(), 1, 'one export button');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  assert.equal(download.suggestedFilename(), 'gmail-to-slack-automation.agent.json');
  const file = await readFile(await download.path(), 'utf8');
  assert.match(file, /^\{\n {2}"[a-z_]+": /, 'indented for people, as `kiln agent export` writes it');
  const exported = JSON.parse(file);
  assert.deepEqual(exported, await guest(page, (kiln, id) => JSON.parse(kiln.exportAgent(id)), v.session_id));
  assert.equal(exported.schema_version, 'kiln.agent/v1');
  assert.equal(exported.trigger.cron, '0 8 * * 1-5');

  await screenshot(page, 'browser-main.png');

  // A reload resumes the same session where it was, with its transcript.
  const shown = await page.$$eval('#log .msg', (ms) => ms.map((m) => m.innerText));
  await page.reload();
  await page.waitForSelector(LOADED);
  assert.deepEqual(await page.$$eval('#log .msg', (ms) => ms.map((m) => m.innerText)), shown, 'the transcript survives a reload');
  assert.deepEqual(await currentSession(page), v, 'the session survives a reload');
  await checkPanels(page);
  const listed = await page.$$eval('#session-list li', (lis) => lis.map((li) => [li.dataset.sessionId, li.classList.contains('current'), li.querySelector('.goal').textContent]));
  assert.deepEqual(listed, [[v.session_id, true, 'Summarise my unread Gmail and post it to Slack #team']], 'the session is named from its goal');

  // A second session is independent of the first.
  await page.click('#new-session');
  assert.equal(await page.locator('#log .msg:not(.greeting)').count(), 0, 'a new session starts empty');
  r = await say(page, 'When a new issue is opened in GitHub, create a task in Jira');
  assert.equal(r.phase, 'OAUTH_FLOW');
  const second = await checkPanels(page);
  assert.notEqual(second.session_id, v.session_id);
  assert.equal(second.pending_oauth.provider, 'github');
  assert.deepEqual(await guest(page, (kiln, id) => JSON.parse(kiln.getSession(id)), v.session_id), v, 'the first session is untouched');
  assert.equal(await page.locator('#session-list li').count(), 2);
  assert.equal(await page.locator('#session-list li.current').getAttribute('data-session-id'), second.session_id);

  // Resume the first from the list, then delete the second.
  await page.click(`#session-list li[data-session-id="${v.session_id}"] .session-open`);
  assert.deepEqual(await page.$$eval('#log .msg', (ms) => ms.map((m) => m.innerText)), shown);
  assert.equal((await checkPanels(page)).session_id, v.session_id);
  page.once('dialog', (d) => d.accept());
  await page.click(`#session-list li[data-session-id="${second.session_id}"] button.danger`);
  await page.waitForFunction(() => document.querySelectorAll('#session-list li').length === 1);
  const gone = await guest(page, (kiln, id) => { try { kiln.getSession(id); return 'still there'; } catch (e) { return e.name; } }, second.session_id);
  assert.equal(gone, 'not-found');
  assert.equal(await page.evaluate((id) => localStorage.getItem(`kiln-ui/v1/transcripts/${id}`), second.session_id), null);

  // The stored keys are namespaced and versioned.
  const keys = await page.evaluate(() => Object.keys(localStorage).sort());
  assert.ok(keys.every((k) => k.startsWith('kiln/v1/') || k.startsWith('kiln-ui/v1/')), keys.join(', '));
  assert.ok(keys.includes(`kiln/v1/sessions/${v.session_id}.json`));
  // A session is a binary record, kept as base64 behind a marker (localStorage holds text).
  const stored = await page.evaluate((id) => localStorage.getItem(`kiln/v1/sessions/${id}.json`), v.session_id);
  assert.ok(stored.startsWith('\u0001base64,/0tT'), stored.slice(0, 20));

  // Phone width: nothing overflows sideways, the stepper and composer stay usable.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at phone width`);
  assert.equal(await page.locator('#composer-text').isVisible(), true);
  assert.equal(await page.locator('#sessions').isVisible(), false, 'the session list folds away on a phone');
  await page.click('#sessions-toggle');
  assert.equal(await page.locator('#sessions').isVisible(), true);
  await screenshot(page, 'browser-phone.png');
});

await scenario('a message sent while the engine is still loading is answered once it is ready', async (b) => {
  const page = await b.context.newPage();
  // Hold the wasm back so the message certainly goes in before the engine is there.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/pkg/kiln_web_bg.*.wasm', async (route) => { await held; await route.continue(); });
  await page.goto(BASE);
  // The empty page is drawn and says it is ready without its engine.
  await page.waitForSelector('body[data-ready="true"]');
  assert.deepEqual(await page.$$eval('#stepper li', (li) => li.map((x) => x.dataset.state)), ['current', 'todo', 'todo', 'todo', 'todo', 'todo', 'todo', 'todo'], 'the stepper drawn without the engine');
  await page.focus('#composer-text');
  await page.keyboard.type(REQUEST, { delay: 0 });
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('body', 'data-engine'), null, 'sent before the engine loaded');
  await page.click('#new-session');
  release();
  await page.waitForSelector(LOADED, { timeout: 15000 });
  const r = await response(page, 0);
  assert.equal(r.phase, 'OAUTH_FLOW', 'the early message got the engine\'s answer');
  assert.match(r.texts.join('\n'), /connect your Gmail account/);
  assert.equal(await page.locator('#log .msg.user').count(), 1, 'sent once');
  assert.equal((await currentSession(page)).turn, 1);
});

await scenario('the page is ready once a frame has drawn it, having stored nothing', async (b) => {
  const page = await b.context.newPage();
  // Counts frames (animation frame callbacks) from the one after the stepper got its phases
  // (drawn with the rest of the page, before the engine has loaded) to the one in which the page
  // says it is ready: the first turn should overlap the frame that draws the page.
  await page.addInitScript(() => {
    let frames = 0;
    let drawnAt = null;
    const tick = () => { frames += 1; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    window.readyAfterFrames = null;
    new MutationObserver(() => {
      if (drawnAt === null && document.getElementById('stepper')?.children.length) drawnAt = frames;
      if (window.readyAfterFrames === null && document.body?.dataset.ready === 'true') {
        window.readyAfterFrames = frames - drawnAt;
        window.storedAtReady = Object.keys(localStorage);
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
  });
  await open(page);
  assert.ok(await page.evaluate(() => window.readyAfterFrames) >= 1, 'a frame drew the page before it was ready');
  assert.deepEqual(await page.evaluate(() => window.storedAtReady), [], 'nothing stored before the person does anything');
  assert.equal((await say(page, REQUEST)).phase, 'OAUTH_FLOW');
});

await scenario('a wasm served with the wrong type says what to fix', async (b) => {
  const page = await b.context.newPage();
  await page.route('**/pkg/kiln_web_bg.*.wasm', async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, headers: { ...res.headers(), 'content-type': 'text/plain' } });
  });
  await page.goto(BASE);
  await page.waitForSelector('#fatal:not([hidden])');
  assert.equal(await page.locator('#fatal-title').innerText(), 'The engine did not load');
  const text = await page.locator('#fatal-text').innerText();
  assert.match(text, /MIME type/, 'the browser\'s reason is shown');
  assert.match(text, /Serve \.wasm files as application\/wasm and reload\.$/);
  assert.doesNotMatch(text, /\.\./);
}, { consoleErrors: 'allow' });
