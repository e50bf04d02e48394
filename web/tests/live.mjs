// Online against the real `kiln serve` (no interception; tests/tests/browser.rs starts it
// with --web-dir web/dist, OAuth providers at a real OAuth2 server and a models.yaml whose
// model answers the first extraction and then only garbage): the page from the server's `/`
// is online; a whole conversation to COMPLETE with a real redirect round trip per
// integration, Back once and one iteration, the panels checked against the guest after
// every turn; the LLM proxy's answer used, and its failures falling back to the rules. Then
// the dashboard drawing the server's real /metrics.
import assert from 'node:assert/strict';
import { BASE, LOADED, REQUEST, act, checkPanels, iterateToEight, open, response, say, scenario, screenshot } from './lib.mjs';

const ISSUER = process.env.KILN_OAUTH_ISSUER;
assert.ok(ISSUER, 'KILN_OAUTH_ISSUER names the OAuth2 server');
const origin = new URL(BASE).origin;

/** Milliseconds since `t0`, rounded. */
const since = (t0) => Math.round(performance.now() - t0);

await scenario('live: kiln serve, real OAuth redirects, the LLM proxy, to COMPLETE', async (b) => {
  const page = await b.context.newPage();
  // What went over the wire, as the browser saw it (nothing is intercepted).
  const proxied = [];
  const oauthStarts = [];
  const hops = [];
  page.on('request', (q) => {
    const u = new URL(q.url());
    if (u.origin === origin && u.pathname === '/v1/oauth/start') oauthStarts.push(q.postDataJSON());
  });
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.origin === origin && u.pathname === '/v1/llm/complete') {
      proxied.push({ status: r.status(), body: await r.json().catch(() => null) });
    }
    if (r.request().isNavigationRequest()) hops.push([`${u.origin}${u.pathname}`, r.status()]);
  });

  const t0 = performance.now();
  await open(page);
  await page.waitForSelector('body[data-mode="online"]');
  const ready = since(t0);
  assert.equal(await page.locator('#conn').innerText(), 'kiln serve: LLM on, real sign-in: Gmail, Slack', 'the header says what the server offers');

  // The first message: the model's extraction is used (it picked the channel).
  let t = performance.now();
  let r = await say(page, REQUEST);
  const firstResponse = since(t);
  assert.equal(r.phase, 'OAUTH_FLOW');
  let v = await checkPanels(page);
  assert.equal(v.requirements.find((q) => q.field === 'channel').value, '#llm-picked', 'the proxied model\'s extraction was used');
  assert.equal(proxied.length, 1, 'one proxied completion for the first message');
  assert.deepEqual([proxied[0].status, proxied[0].body.provider], [200, 'fake']);

  // Each integration through the real provider: page -> /authorize -> /oauth/callback -> page.
  const roundTrips = [];
  for (const [provider, label] of [['gmail', 'Gmail'], ['slack', 'Slack']]) {
    const pending = v.pending_oauth;
    assert.equal(pending.provider, provider);
    const before = await page.locator('.msg.kiln:not(.greeting)').count();
    hops.length = 0;
    t = performance.now();
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('oauth_state') === pending.state),
      page.click('#actions button[data-kind="connect"]'),
    ]);
    await page.waitForSelector(LOADED);
    r = await response(page, before);
    roundTrips.push(since(t));
    assert.equal(r.texts[0], `${label} is connected.`);
    assert.deepEqual(oauthStarts.at(-1), { provider, state: pending.state, scopes: pending.scopes, return_to: `${origin}/` });
    assert.deepEqual(hops.map(([u]) => u), [`${ISSUER}/authorize`, `${origin}/oauth/callback`, `${origin}/`], 'the redirect chain');
    assert.deepEqual(hops.map(([, s]) => Math.floor(s / 100)), [3, 3, 2]);
    assert.equal(new URL(page.url()).search, '', 'the OAuth result is cleaned from the URL');
    v = await checkPanels(page);
    assert.ok(v.connected.includes(provider), `${provider} is connected in the local guest`);
  }
  assert.equal(r.phase, 'REQUIREMENTS');
  assert.deepEqual(v.connected, ['gmail', 'slack']);

  // On to COMPLETE, Back once and one iteration; the model now answers garbage, so the
  // guest's rules understand and draft.
  const calls = proxied.length;
  r = await say(page, 'London time');
  assert.equal(r.phase, 'REQUIREMENTS');
  assert.equal((await checkPanels(page)).requirements.find((q) => q.field === 'timezone').value, 'Europe/London', 'the rules understood it');
  r = await act(page, 'confirm', 'Build it');
  assert.equal(r.phase, 'TESTING');
  v = await checkPanels(page);
  assert.ok(v.draft_agent_id, 'a draft is stored (the rules drafted it)');
  r = await act(page, 'go_back');
  assert.equal(r.phase, 'REQUIREMENTS');
  await checkPanels(page);
  r = await say(page, 'yes');
  assert.equal(r.phase, 'TESTING');
  await checkPanels(page);
  r = await act(page, 'accept');
  assert.equal(r.phase, 'ACTIVATION');
  r = await act(page, 'confirm', 'Activate');
  assert.equal(r.phase, 'COMPLETE');
  await checkPanels(page);
  v = await iterateToEight(page);
  assert.equal(v.requirements.find((q) => q.field === 'channel').value, '#llm-picked', 'the model\'s channel stayed');
  const later = proxied.slice(calls);
  assert.ok(later.length >= 3, `the later turns asked the proxy too (${later.length})`);
  assert.ok(later.every((p) => p.status !== 200 || typeof p.body.text === 'string'), 'answers or errors, nothing else');
  assert.ok(later.some((p) => p.status !== 200), 'the garbage made the proxy fail, and the rules took over');
  for (const p of later.filter((x) => x.status !== 200)) assert.equal(typeof p.body.error.kind, 'string');
  assert.equal(await page.locator('#mode-banner').isVisible(), false, 'no key problem was reported');
  await screenshot(page, 'browser-online.png');

  const kinds = later.map((p) => (p.status === 200 ? 'ok' : p.body.error.kind));
  console.log(`figures: ready+online ${ready} ms, first response ${firstResponse} ms (one proxied completion), OAuth round trips ${roundTrips.join(' / ')} ms, proxied completions ${proxied.length} (later: ${kinds.join(', ')})`);
// The model's garbage makes the proxy answer 503, which the console reports as a failed request.
}, { consoleErrors: 'allow' });

await scenario('live dashboard: the server\'s real /metrics', async (b) => {
  const page = await b.context.newPage();
  await page.goto(new URL('dashboard.html?interval_ms=300', BASE).href);
  await page.waitForFunction(() => Number(document.body.dataset.polls) >= 2);
  assert.equal(await page.getAttribute('body', 'data-mode'), 'online');
  // What the server says, read here with a regex of its own (not the page's parser).
  const text = await (await page.request.get(new URL('/metrics', BASE).href)).text();
  const into = {};
  for (const [, to, n] of text.matchAll(/^kiln_phase_transitions_total\{[^}]*to="([A-Z_]+)"[^}]*\} (\S+)$/gm)) {
    into[to] = (into[to] || 0) + Number(n);
  }
  assert.ok(into.COMPLETE >= 1, `the server-side conversation reached COMPLETE: ${JSON.stringify(into)}`);
  const funnel = await page.$$eval('#funnel rect', (rs) => Object.fromEntries(rs.map((r) => [r.dataset.phase, Number(r.dataset.value)])));
  // Sessions start in IDLE: the funnel begins with the entries into DISCOVERY.
  const phases = ['DISCOVERY', 'OAUTH_FLOW', 'REQUIREMENTS', 'GENERATION', 'TESTING', 'ACTIVATION', 'COMPLETE'];
  assert.deepEqual(Object.keys(funnel), phases, 'one bar a phase after IDLE');
  for (const phase of phases) assert.equal(funnel[phase], into[phase] ?? 0, `the funnel's ${phase}`);
  const oauth = await page.$$eval('#oauth tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  for (const provider of ['gmail', 'slack']) {
    const m = text.match(new RegExp(`^kiln_oauth_outcomes_total\\{[^}]*provider="${provider}"[^}]*outcome="approved"[^}]*\\} (\\S+)$`, 'm'))
      || text.match(new RegExp(`^kiln_oauth_outcomes_total\\{[^}]*outcome="approved"[^}]*provider="${provider}"[^}]*\\} (\\S+)$`, 'm'));
    assert.ok(m, `the server counted ${provider} approvals`);
    assert.ok(Number(m[1]) >= 2, `the browser's and the API client's ${provider} approvals: ${m[1]}`);
    assert.ok(oauth.some(([p, o, n]) => p === provider && o === 'approved' && n === m[1]), `the OAuth table: ${JSON.stringify(oauth)}`);
  }
  const attempts = await page.$$eval('#attempts tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  assert.ok(attempts.includes('fake'), `LLM attempts by provider: ${attempts}`);
  await screenshot(page, 'browser-online-dashboard.png');
  console.log(`figures: funnel ${JSON.stringify(funnel)}`);
});
