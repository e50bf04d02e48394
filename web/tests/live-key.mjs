// Online against the real `kiln serve` with API keys and no OAuth providers configured
// (tests/tests/browser.rs starts it; its model answers the first extraction): without the
// key the proxy refuses, the page says so and the rules answer; with the key the proxy's
// answer is used; connecting an account the server has no provider for falls back to the
// simulated consent (as the server does for its own sessions).
import assert from 'node:assert/strict';
import { BASE, REQUEST, checkPanels, consent, open, say, scenario } from './lib.mjs';

const KEY = process.env.KILN_API_KEY;
assert.ok(KEY, 'KILN_API_KEY is the tenant\'s key');
const origin = new URL(BASE).origin;

await scenario('live with API keys: a refused key, then the key; simulated consent without providers', async (b) => {
  const page = await b.context.newPage();
  const proxied = [];
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.origin === origin && u.pathname === '/v1/llm/complete') {
      proxied.push({ status: r.status(), auth: await r.request().headerValue('authorization') });
    }
  });
  await open(page);
  await page.waitForSelector('body[data-mode="online"]');
  assert.equal(await page.locator('#conn').innerText(), 'kiln serve: LLM on, sign-in simulated', 'the header says what the server offers');

  // No key: the proxy answers 401, the page says so, and the rules understand the request.
  let r = await say(page, REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW');
  assert.deepEqual(proxied, [{ status: 401, auth: null }]);
  assert.match(await page.locator('#mode-banner').innerText(), /refused the API key \(HTTP 401\).*Server key/);
  let v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'channel').value, '#team', 'the rules answered');

  // The key, entered through the settings dialog: the key banner goes.
  await page.click('#settings-open');
  await page.fill('#api-key', KEY);
  await page.click('#settings-dialog button[value="save"]');
  // The dialog's close event (which hides the banner and checks the server again) comes a
  // task after the click: wait for its effect rather than for a mode that was already online.
  await page.waitForSelector('#mode-banner', { state: 'hidden', timeout: 10000 });
  await page.waitForSelector('body[data-mode="online"]');
  assert.equal(await page.locator('#mode-banner').isVisible(), false);

  // No OAuth provider on this server: its 404 leads to the simulated consent, said as such.
  r = await consent(page, true);
  assert.equal(r.texts[0], 'Gmail is connected.');
  assert.match(await page.locator('#oauth-dialog .sim').textContent(), /no sign-in configured for Gmail/);
  r = await consent(page, true);
  assert.equal(r.phase, 'REQUIREMENTS');
  v = await checkPanels(page);
  assert.deepEqual(v.connected, ['gmail', 'slack']);

  // With the key, the proxy's model is used.
  await page.click('#new-session');
  const before = proxied.length;
  r = await say(page, REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW');
  assert.deepEqual(proxied.slice(before), [{ status: 200, auth: `Bearer ${KEY}` }]);
  v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'channel').value, '#llm-picked', 'the proxied model\'s extraction was used');
// The refused key's 401 is reported by the console as a failed request.
}, { consoleErrors: 'allow' });
