// The builder UI at three sizes (laptop 1280x800, small laptop 1024x768, phone 390x844),
// offline, each in light and dark with axe-core finding no violations: the agent drawn as a
// flow with the dry run's samples; details changed in place, each change a normal turn (the
// message in the chat, the guest's state in the panel); quick replies for the open question
// (the browser's own time zone first, a searchable list, examples on the empty page); a
// progress indicator while the engine works; honest status; the message box always in view;
// focus after every dialog; sessions named from their goal and renamed. Screenshots of each
// size and scheme land in target/artifacts/ui-*.png.
import assert from 'node:assert/strict';
import { BASE, LOADED, REQUEST, act, actions, axe, checkPanels, consent, currentSession, open, response, say, scenario, screenshot } from './lib.mjs';

/** The element's box lies inside the viewport (it can be seen and clicked without scrolling the page). */
async function inView(page, selector, what) {
  const box = await page.locator(selector).first().boundingBox();
  const { width, height } = page.viewportSize();
  assert.ok(box, `${what} is rendered`);
  assert.ok(box.y >= 0 && box.y + box.height <= height + 0.5 && box.x >= 0 && box.x + box.width <= width + 0.5,
    `${what} is in view at ${width}x${height}: ${JSON.stringify(box)}`);
}

/** Nothing scrolls sideways, and the page itself does not scroll: the conversation scrolls inside it. */
async function fits(page) {
  const { sideways, down } = await page.evaluate(() => ({
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    down: document.documentElement.scrollHeight - document.documentElement.clientHeight,
  }));
  assert.ok(sideways <= 0, `the page scrolls sideways by ${sideways}px`);
  assert.ok(down <= 1, `the page scrolls down by ${down}px: the message box would leave the screen`);
}

/** Which element has the focus, as a CSS-ish description. */
function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    return a === document.body || !a ? 'body' : `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : ''}${a.dataset.kind ? `[${a.dataset.kind}]` : ''}`;
  });
}

/** Both colour schemes pass axe, with a screenshot of each. */
async function bothSchemes(page, name, state) {
  await page.emulateMedia({ colorScheme: 'light' });
  await axe(page, `${name}, ${state}, light`);
  await screenshot(page, `ui-${name}-light.png`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await axe(page, `${name}, ${state}, dark`);
  await screenshot(page, `ui-${name}-dark.png`);
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Changes a detail through its editor in the agent panel; returns the response. */
async function editDetail(page, opener, fill) {
  const before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.click(opener);
  await page.waitForSelector('#edit-dialog[open]');
  await fill();
  await page.click('#edit-save');
  return response(page, before);
}

/** The person's last message, as shown in the chat. */
function lastSaid(page) {
  return page.locator('#log .msg.user p').last().innerText();
}

await scenario('laptop 1280x800: examples, the device\'s time zone, the flow, changes in place, axe light and dark', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  // Honest status: a static host, so no server.
  assert.equal(await page.locator('#conn').innerText(), 'Offline: rules only, sign-in simulated');
  const starters = await page.locator('#log .starters button').allInnerTexts();
  assert.ok(starters.length >= 3 && starters.includes(REQUEST), `several examples on the empty page: ${starters}`);
  await axe(page, 'empty page, light');
  await fits(page);

  // An example is sent as the first message.
  const before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.click(`#log .starters button:has-text("${REQUEST}")`);
  let r = await response(page, before);
  assert.equal(await lastSaid(page), REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW');
  assert.equal(await page.locator('#log .starters').count(), 0, 'the examples go once the conversation starts');
  assert.equal(await page.getAttribute('#composer-text', 'placeholder'), 'Reply to Kiln…');
  await inView(page, '#actions button[data-kind="connect"]', 'the Connect button');

  // After each consent the focus is on the next answer, never lost to the page.
  await consent(page, true);
  assert.equal(await focused(page), 'button[connect]', 'after "Allow", the next Connect button has the focus');
  r = await consent(page, true);
  assert.equal(r.phase, 'REQUIREMENTS');
  assert.match(r.texts.at(-1), /time zone/i);

  // The time zone question: the device's zone first, then UTC, then the searchable list.
  const chips = await actions(page);
  assert.deepEqual(chips[0], ['choose', 'America/New_York (this device)', 'America/New_York'], 'the browser\'s own zone comes first');
  assert.deepEqual(chips.slice(1).map((c) => c[1]), ['UTC', 'Another time zone…']);
  assert.equal(await focused(page), 'button[choose]', 'after the dialog, the first answer has the focus');
  await checkPanels(page);
  await axe(page, 'time zone question with quick replies, light');
  r = await act(page, 'choose', 'America/New_York');
  assert.equal(await lastSaid(page), 'America/New_York (this device)');
  let v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'timezone').value, 'America/New_York', 'the chip answered the question');

  // Direct editing: each change is a message through the engine, shown in the chat.
  const timeButton = '#requirements dd[data-field="time"] button';
  await page.click(timeButton);
  await page.waitForSelector('#edit-dialog[open]');
  await axe(page, 'time editor open, light');
  await page.click('#edit-dialog button[value="cancel"]');
  assert.equal(await focused(page), 'button', 'focus back on the detail after Cancel');
  assert.equal(await page.evaluate(() => document.activeElement.closest('dd')?.dataset.field), 'time');
  r = await editDetail(page, timeButton, () => page.fill('#edit-time', '08:30'));
  assert.equal(await lastSaid(page), 'make it 08:30', 'the change is a message in the chat');
  v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'time').value, '08:30');
  assert.equal(await page.evaluate(() => document.activeElement.closest('dd')?.dataset.field), 'time', 'focus back on the changed detail');
  r = await editDetail(page, '#requirements dd[data-field="days"] button', async () => {
    await page.uncheck('#edit-dialog input[value="Tuesday"]');
    await page.uncheck('#edit-dialog input[value="Thursday"]');
  });
  assert.equal(await lastSaid(page), 'on Monday, Wednesday and Friday');
  v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'days').value, 'Mon, Wed, Fri');
  r = await editDetail(page, '#requirements dd[data-field="timezone"] button', () => page.fill('#edit-zone', 'asia/tokyo'));
  assert.equal(await lastSaid(page), 'time zone Asia/Tokyo', 'the searchable list takes any case');
  v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'timezone').value, 'Asia/Tokyo');

  // Built: the picture of trigger -> steps -> destination, with the dry run's samples.
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  v = await checkPanels(page);
  const flow = await page.locator('#flow').innerText();
  assert.match(flow, /Mon, Wed, Fri at 08:30/);
  assert.match(flow, /Find emails\nGmail account\nReads: unread emails/);
  assert.match(flow, /Summarise them\nKiln's AI/);
  assert.match(flow, /Post a message\nto #team\nSlack account/);
  assert.match(flow, /Sample: 3 messages: "Invoice #1042"/);
  // A step's target changes in place too: the channel, from the picture.
  r = await editDetail(page, '#flow button[data-field="channel"]', () => page.fill('#edit-channel', 'ops'));
  assert.equal(await lastSaid(page), 'change the channel to #ops');
  assert.equal(r.phase, 'REQUIREMENTS', 'a change goes back to the details, as typed');
  v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'channel').value, '#ops');
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  await checkPanels(page);
  assert.match(await page.locator('#flow').innerText(), /to #ops/);

  // Laid out for the window: the message box in view after a long conversation.
  await fits(page);
  await inView(page, '#composer-text', 'the message box');
  await inView(page, '#send', 'the Send button');
  assert.ok(await page.locator('#log .msg').count() > 15, 'a long conversation');
  const step = await page.locator('#step-now').innerText();
  assert.equal(step, 'Step 6 of 8: Testing the draft', 'the phase in words');
  await bothSchemes(page, 'laptop-1280x800', 'testing the draft');

  // Sessions are named from their goal, and can be renamed.
  assert.equal(await page.locator('#session-list li .goal').innerText(), 'Summarise my unread Gmail and post it to Slack #team');
  await page.click('#session-list li button:has-text("Rename")');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Morning digest');
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#session-list li .goal').innerText(), 'Morning digest');
  assert.equal(await focused(page), 'button', 'focus back on the renamed session');
  await page.reload();
  await page.waitForSelector(LOADED);
  assert.equal(await page.locator('#session-list li .goal').innerText(), 'Morning digest', 'the name survives a reload');
  assert.equal((await currentSession(page)).phase, 'TESTING');
}, { viewport: { width: 1280, height: 800 }, timezoneId: 'America/New_York' });

await scenario('small laptop 1024x768: the progress indicator, the sessions drawer, axe light and dark', async (b) => {
  const page = await b.context.newPage();
  // Hold the engine back: a message sent meanwhile shows at once with an indicator.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/pkg/kiln_web_bg.*.wasm', async (route) => { await held; await route.continue(); });
  await page.goto(BASE);
  await page.waitForSelector('#composer-text');
  await page.fill('#composer-text', REQUEST);
  await page.press('#composer-text', 'Enter');
  await page.waitForSelector('#log .typing');
  assert.equal(await page.locator('#log .typing').getAttribute('role'), 'status');
  assert.equal(await lastSaid(page), REQUEST, 'the message shows at once');
  release();
  await page.waitForSelector(LOADED);
  let r = await response(page, 0);
  assert.equal(r.phase, 'OAUTH_FLOW');
  assert.equal(await page.locator('#log .typing').count(), 0, 'the indicator goes with the answer');

  await consent(page, true);
  await consent(page, true);
  r = await act(page, 'choose', 'UTC');
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  await checkPanels(page);
  await fits(page);
  await inView(page, '#composer-text', 'the message box');
  await inView(page, '#flow li.node.trigger', 'the picture of the agent');

  // The session list is a drawer here: it opens with the focus in it, and closes on choosing.
  assert.equal(await page.locator('#sessions').isVisible(), false);
  await page.click('#sessions-toggle');
  assert.equal(await page.locator('#sessions').isVisible(), true);
  assert.equal(await focused(page), 'button#new-session');
  await page.click('#session-list li .session-open');
  assert.equal(await page.locator('#sessions').isVisible(), false);
  assert.equal(await focused(page), 'textarea#composer-text');
  await bothSchemes(page, 'laptop-1024x768', 'testing the draft');
}, { viewport: { width: 1024, height: 768 } });

await scenario('phone 390x844: compact header and stepper, Connect in view, the zone list, chat and agent views, axe light and dark', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  const header = await page.locator('header.top').boundingBox();
  const stepper = await page.locator('.progressbar').boundingBox();
  assert.ok(header.height <= 56, `a compact header: ${header.height}px`);
  assert.ok(stepper.height <= 56, `a compact stepper: ${stepper.height}px`);
  await axe(page, 'phone, empty page, light');
  let r = await say(page, REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW');
  await inView(page, '#actions button[data-kind="connect"]', 'the Connect button');
  await inView(page, '#composer-text', 'the message box');
  await consent(page, true);
  r = await consent(page, true);
  assert.equal(r.phase, 'REQUIREMENTS');
  // The searchable list of every zone.
  await page.click('#actions button[data-kind="other_zone"]');
  assert.equal(await focused(page), 'input');
  assert.ok(await page.locator('#zone-list option').count() > 300, 'every IANA zone the browser knows');
  const before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.keyboard.type('Europe/Paris');
  await page.keyboard.press('Enter');
  r = await response(page, before);
  assert.equal((await currentSession(page)).requirements.find((q) => q.field === 'timezone').value, 'Europe/Paris');
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  await fits(page);
  await inView(page, '#composer-text', 'the message box');
  await bothSchemes(page, 'phone-390x844-chat', 'testing the draft');
  // The agent has a view of its own on a phone.
  await page.click('#show-agent');
  assert.equal(await page.locator('#log').isVisible(), false);
  assert.equal(await focused(page), 'button#hide-agent');
  await checkPanels(page);
  await fits(page);
  await bothSchemes(page, 'phone-390x844-agent', 'the agent view');
  await page.click('#hide-agent');
  assert.equal(await page.locator('#composer-text').isVisible(), true);
  assert.equal(await focused(page), 'button#show-agent');
}, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

await scenario('choices the engine sends are chips: label shown, value sent, the device\'s zone first', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  await say(page, REQUEST);
  await consent(page, true);
  const r = await consent(page, true);
  assert.match(r.texts.at(-1), /time zone/i);
  // The engine's pick list for the question, as a chunk's `choose` actions (the page keeps the
  // last response's actions in its transcript, and draws them again on reload).
  const v = await currentSession(page);
  await page.evaluate((id) => {
    const key = `kiln-ui/v1/transcripts/${id}`;
    const t = JSON.parse(localStorage.getItem(key));
    t.at(-1).actions = [
      { kind: 'choose', label: 'London', value: 'Europe/London' },
      { kind: 'choose', label: 'New York', value: 'America/New_York' },
      { kind: 'choose', label: 'UTC', value: 'UTC' },
    ];
    localStorage.setItem(key, JSON.stringify(t));
  }, v.session_id);
  await page.reload();
  await page.waitForSelector(LOADED);
  assert.deepEqual(await actions(page), [
    ['choose', 'New York (this device)', 'America/New_York'],
    ['choose', 'London', 'Europe/London'],
    ['choose', 'UTC', 'UTC'],
    ['other_zone', 'Another time zone…', ''],
  ], 'the engine\'s choices, the device\'s zone moved first, nothing offered twice');
  await act(page, 'choose', 'London');
  assert.equal(await lastSaid(page), 'London', 'the label is shown');
  assert.equal((await currentSession(page)).requirements.find((q) => q.field === 'timezone').value, 'Europe/London', 'the value is sent');
}, { viewport: { width: 1280, height: 800 }, timezoneId: 'America/New_York' });
