// Online mode against the server contract (docs/web.md), with the server played by request
// interception: kiln-server.json (what the server offers), the LLM proxy (its answer is used,
// its failures fall back to the rules), the API key header, the OAuth redirect round trip, and
// a slow server check not holding the page. Also the dashboard drawing /metrics.
import assert from 'node:assert/strict';
import { LOADED, REQUEST, act, axe, checkPanels, currentSession, open, response, say, scenario, screenshot } from './lib.mjs';

const KEY = 'test-key-123';
/** The engines this page load fetched (docs/web.md, "Two engines"). */
const enginesLoaded = (page) => page.evaluate(() => performance.getEntriesByType('resource')
  .map((e) => /pkg\/(kiln_web(?:_llm)?_bg)\./.exec(e.name)?.[1]).filter(Boolean));

/** What the played server says it offers: models, and real sign-in for gmail and slack. */
const OFFERS = { server: 'kiln serve', version: 'test', models: true, sign_in: ['gmail', 'slack'], api_keys: true };
const offers = (body = OFFERS) => ({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });

await scenario('online: LLM proxy, API key, OAuth redirect round trip', async (b) => {
  const page = await b.context.newPage();
  const llmCalls = [];
  const oauthStarts = [];
  await page.route('**/kiln-server.json', (r) => r.fulfill(offers()));
  await page.route('**/v1/llm/complete', async (r) => {
    const body = r.request().postDataJSON();
    llmCalls.push({ body, auth: r.request().headers().authorization });
    const extraction = body.json_schema && body.json_schema.properties && body.json_schema.properties.integrations;
    if (llmCalls.length === 1 && extraction) {
      const text = JSON.stringify({ integrations: ['gmail', 'slack'], trigger: 'schedule', days: ['mon', 'tue', 'wed', 'thu', 'fri'], time: '09:00', channel: '#llm-picked' });
      return r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ text, provider: 'mock', model: 'mock-1' }) });
    }
    return r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { kind: 'unavailable', message: 'every provider is down (mock)' } }) });
  });
  await page.route('**/v1/oauth/start', async (r) => {
    const body = r.request().postDataJSON();
    oauthStarts.push({ body, auth: r.request().headers().authorization });
    const url = new URL('/mock-provider', r.request().url());
    url.searchParams.set('state', body.state);
    url.searchParams.set('return_to', body.return_to);
    url.searchParams.set('result', oauthStarts.length === 2 ? 'denied' : 'approved');
    return r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ authorization_url: url.href }) });
  });
  await page.route('**/mock-provider?*', (r) => {
    const q = new URL(r.request().url()).searchParams;
    const back = new URL(q.get('return_to'));
    back.searchParams.set('oauth_state', q.get('state'));
    back.searchParams.set('oauth_result', q.get('result'));
    return r.fulfill({ status: 302, headers: { Location: back.href } });
  });

  await open(page);
  // The key, entered through the settings dialog.
  await page.click('#settings-open');
  await page.fill('#api-key', KEY);
  await page.click('#settings-dialog button[value="save"]');
  // Saved by the dialog's close event, a task after the click; then the server is checked.
  await page.waitForFunction((k) => Object.values(sessionStorage).includes(k), KEY);
  await page.waitForSelector('body[data-mode="online"]');
  assert.equal(await page.locator('#conn').innerText(), 'kiln serve: LLM on, real sign-in: Gmail, Slack', 'the header says what the server offers');

  let r = await say(page, REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW');
  let v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'channel').value, '#llm-picked', 'the LLM\'s extraction was used');
  // (The tests' `guest()` loads the page's engine once more, later.)
  assert.deepEqual((await enginesLoaded(page)).slice(0, 2), ['kiln_web_bg', 'kiln_web_llm_bg'], 'first visit: the page\'s engine, then the online one');
  assert.ok(llmCalls.length >= 1);
  for (const c of llmCalls) {
    assert.equal(c.auth, `Bearer ${KEY}`);
    assert.equal(c.body.session_id, v.session_id);
    assert.ok(Array.isArray(c.body.messages) && c.body.messages.length > 0);
    assert.ok(c.body.messages.every((m) => ['system', 'user', 'assistant'].includes(m.role) && typeof m.content === 'string'));
    assert.ok(c.body.json_schema === null || typeof c.body.json_schema === 'object');
  }

  // Connect Gmail: to the provider and back, approved.
  const state = v.pending_oauth.state;
  let before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.click('#actions button[data-kind="connect"]');
  await page.waitForURL((u) => !u.search.includes('oauth_state') && u.pathname === '/');
  await page.waitForSelector(LOADED);
  r = await response(page, before);
  assert.equal(r.texts[0], 'Gmail is connected.');
  assert.deepEqual(oauthStarts[0].body, { provider: 'gmail', state, scopes: v.pending_oauth.scopes, return_to: new URL('/', page.url()).href });
  assert.equal(oauthStarts[0].auth, `Bearer ${KEY}`);
  assert.equal(new URL(page.url()).search, '', 'the OAuth result is cleaned from the URL');
  assert.equal((await enginesLoaded(page))[0], 'kiln_web_llm_bg', 'the server had models: the next load takes the online engine');

  // Slack: denied at the provider, then retried and approved.
  before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.click('#actions button[data-kind="connect"]');
  await page.waitForSelector(LOADED);
  r = await response(page, before);
  assert.match(r.texts[0], /Slack was declined/);
  await act(page, 'retry');
  before = await page.locator('.msg.kiln:not(.greeting)').count();
  await page.click('#actions button[data-kind="connect"]');
  await page.waitForSelector(LOADED);
  r = await response(page, before);
  assert.equal(r.phase, 'REQUIREMENTS');

  // On to COMPLETE; the proxy now fails, so the rules answer and draft.
  r = await say(page, 'London time');
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  r = await act(page, 'accept');
  r = await act(page, 'confirm', 'Activate');
  assert.equal(r.phase, 'COMPLETE');
  v = await checkPanels(page);
  assert.deepEqual(v.connected, ['gmail', 'slack']);
  assert.equal(llmCalls.length, 3, 'online, the request, "London time" and the draft asked the proxy');

  // A replayed callback is refused without changing anything.
  const snapshot = await currentSession(page);
  await page.goto(new URL(`/?oauth_state=${state}&oauth_result=approved`, page.url()).href);
  await page.waitForSelector(LOADED);
  await page.waitForSelector('#log .msg.error');
  assert.match(await page.locator('#log .msg.error').last().innerText(), /does not belong to any conversation/);
  assert.deepEqual(await currentSession(page), snapshot);
// The proxy's 503s are reported by the console as failed requests.
}, { consoleErrors: 'allow' });

await scenario('a slow server check does not hold the page: the rules answer until a server does', async (b) => {
  const page = await b.context.newPage();
  let answer;
  const status = new Promise((resolve) => { answer = resolve; });
  await page.route('**/kiln-server.json', async (r) => r.fulfill(await status));
  let llmCalls = 0;
  await page.route('**/v1/llm/complete', (r) => {
    llmCalls += 1;
    return r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { kind: 'unavailable', message: 'mock' } }) });
  });
  // The page gives up on an unanswered check after 1.5 s ("offline"); on a loaded machine
  // that can come before or during the first turn. Either way no server is known yet.
  const mode = () => page.getAttribute('body', 'data-mode');
  await open(page);
  assert.match(await mode(), /^(checking|offline)$/);
  const r = await say(page, REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW', 'answered while the check is unanswered');
  assert.match(await mode(), /^(checking|offline)$/);
  assert.equal(llmCalls, 0, 'by the rules: no server is known yet');
  answer(offers());
  await page.waitForSelector('body[data-mode="online"], body[data-mode="offline"]');
  if ((await mode()) === 'offline') {
    // It gave up before the answer came: check again, as a person would.
    await page.click('#conn');
  }
  await page.waitForSelector('body[data-mode="online"]');
  await say(page, 'London time');
  assert.ok(llmCalls > 0, 'online once the server answered');
}, { consoleErrors: 'allow' });

function metrics(step) {
  return [
    '# HELP kiln_phase_transitions_total Phase transitions.',
    '# TYPE kiln_phase_transitions_total counter',
    `kiln_phase_transitions_total{from="IDLE",to="DISCOVERY"} ${10 + step}`,
    `kiln_phase_transitions_total{from="DISCOVERY",to="OAUTH_FLOW"} 7`,
    `kiln_phase_transitions_total{from="OAUTH_FLOW",to="REQUIREMENTS"} 6`,
    `kiln_phase_transitions_total{from="DISCOVERY",to="REQUIREMENTS"} 2`,
    `kiln_phase_transitions_total{from="REQUIREMENTS",to="GENERATION"} 5`,
    `kiln_phase_transitions_total{from="GENERATION",to="TESTING"} 5`,
    `kiln_phase_transitions_total{from="TESTING",to="ACTIVATION"} 4`,
    `kiln_phase_transitions_total{from="ACTIVATION",to="COMPLETE"} 3`,
    'kiln_sessions{phase="REQUIREMENTS"} 2',
    'kiln_turns_total{outcome="ok"} 40',
    `kiln_llm_attempts_total{provider="openai",class="ok"} ${30 + step}`,
    `kiln_llm_retries_total{provider="openai",class="rate-limited"} ${step * 2}`,
    `kiln_llm_retries_total{provider="openai",class="transient"} ${step}`,
    `kiln_llm_retries_total{provider="anthropic",class="transient"} 1`,
    `kiln_llm_fallbacks_total{from="openai",to="anthropic"} ${step}`,
    'kiln_llm_cooldowns_total{provider="openai"} 1',
    'kiln_oauth_outcomes_total{provider="gmail",outcome="approved"} 6',
    '',
  ].join('\n');
}

await scenario('dashboard: funnels in words, LLM retries and fallbacks over time, empty states, no server', async (b) => {
  // A conversation in the builder first: the dashboard also shows this browser's funnel.
  const builder = await b.context.newPage();
  await open(builder);
  await say(builder, REQUEST);
  await builder.close();

  const page = await b.context.newPage();
  let step = 0;
  await page.route('**/kiln-server.json', (r) => r.fulfill(offers()));
  await page.route('**/metrics', (r) => r.fulfill({ status: 200, contentType: 'text/plain; version=0.0.4', body: metrics(step++) }));
  await page.goto(new URL('dashboard.html?interval_ms=200', process.env.KILN_WEB_URL).href);
  await page.waitForFunction(() => Number(document.body.dataset.polls) >= 4);
  const funnel = await page.$$eval('#funnel rect', (rs) => Object.fromEntries(rs.map((r) => [r.dataset.phase, Number(r.dataset.value)])));
  assert.equal(funnel.REQUIREMENTS, 8, 'transitions into a phase are summed over their sources');
  assert.equal(funnel.COMPLETE, 3);
  assert.ok(funnel.DISCOVERY >= 10);
  const labels = await page.$$eval('#funnel text', (ts) => ts.map((t) => t.textContent));
  assert.ok(labels.includes('Filling in the details') && !labels.includes('REQUIREMENTS'), `phases in words: ${labels}`);
  assert.equal(await page.locator('#funnel-empty').isVisible(), false);
  const retries = await page.$$eval('#retries polyline', (ls) => Object.fromEntries(ls.map((l) => [l.dataset.provider, l.dataset.values.split(',').map(Number)])));
  assert.deepEqual(Object.keys(retries).sort(), ['anthropic', 'openai']);
  assert.ok(retries.openai.every((n) => n === 3), `openai retries per interval: ${retries.openai}`);
  assert.ok(retries.anthropic.every((n) => n === 0));
  const fallbacks = await page.$$eval('#fallbacks polyline', (ls) => ls.map((l) => [l.dataset.provider, l.dataset.values]));
  assert.equal(fallbacks[0][0], 'openai');
  assert.ok(fallbacks[0][1].split(',').every((n) => n === '1'));
  assert.deepEqual(await page.$eval('#sessions-now tr[data-phase="REQUIREMENTS"]', (tr) => [...tr.cells].map((c) => c.textContent)), ['Filling in the details', '2']);
  // This browser's own funnel: the conversation above entered DISCOVERY and OAUTH_FLOW.
  const local = await page.$$eval('#local-funnel rect', (rs) => Object.fromEntries(rs.map((r) => [r.dataset.phase, Number(r.dataset.value)])));
  assert.deepEqual([local.DISCOVERY, local.OAUTH_FLOW, local.REQUIREMENTS], [1, 1, 0]);
  await page.emulateMedia({ colorScheme: 'light' });
  await axe(page, 'dashboard, light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await axe(page, 'dashboard, dark');
  await screenshot(page, 'dashboard-online.png');

  // A server that has run no conversation: an explanation instead of empty bars and tables.
  const fresh = await b.context.newPage();
  await fresh.route('**/kiln-server.json', (r) => r.fulfill(offers()));
  await fresh.route('**/metrics', (r) => r.fulfill({ status: 200, contentType: 'text/plain; version=0.0.4', body: '# nothing yet\n' }));
  await fresh.goto(new URL('dashboard.html', process.env.KILN_WEB_URL).href);
  await fresh.waitForFunction(() => Number(document.body.dataset.polls) >= 1);
  assert.match(await fresh.locator('#funnel-empty').innerText(), /No conversations on this server since it started\. Conversations in the builder page run in the browser/);
  assert.equal(await fresh.locator('#turns tbody tr.none').innerText(), 'None yet.');

  // Without a server: said so, no metrics asked for (no failed request in the console), and
  // this browser's funnel still shown.
  const bare = await b.context.newPage();
  await bare.goto(new URL('dashboard.html', process.env.KILN_WEB_URL).href);
  await bare.waitForSelector('#problem:not([hidden])');
  assert.match(await bare.locator('#problem').innerText(), /No Kiln server behind this page.*kiln serve/);
  await bare.waitForSelector('body[data-local-sessions="1"]');
  assert.equal(await bare.locator('#local-funnel rect[data-phase="OAUTH_FLOW"]').getAttribute('data-value'), '1');
  await axe(bare, 'dashboard without a server, light');
  await screenshot(bare, 'dashboard-offline.png');
});
