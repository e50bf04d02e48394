// Damaged or full storage never gives a blank page: corrupt records are named, with a way to
// drop them or to start fresh; a full localStorage is reported as such and the session keeps
// its last good state.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LOADED, REQUEST, currentSession, guest, open, say, scenario } from './lib.mjs';

async function fatalShown(page) {
  await page.waitForSelector('#fatal:not([hidden])');
  return page.locator('#fatal').innerText();
}

await scenario('a corrupt session: clear message, start fresh', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  await say(page, REQUEST);
  const v = await currentSession(page);
  // Cut the stored record (base64 after an 8-character marker) in half, still valid base64.
  await page.evaluate((id) => {
    const key = `kiln/v1/sessions/${id}.json`;
    const stored = localStorage.getItem(key);
    localStorage.setItem(key, stored.slice(0, 8 + 4 * Math.floor((stored.length - 8) / 8)));
  }, v.session_id);
  await page.reload();
  const text = await fatalShown(page);
  assert.match(text, /Some saved data is damaged/);
  assert.match(text, new RegExp(`sessions/${v.session_id}\\.json is corrupt: a damaged session record`));
  assert.match(text, /Start fresh/);
  assert.equal(await page.locator('#fatal button').first().evaluate((b) => b === document.activeElement), true, 'the way out has the focus');
  await page.click('#fatal button:has-text("Start fresh")');
  assert.equal(await page.locator('#fatal').isHidden(), true);
  assert.equal(await page.locator('#session-list li').count(), 0);
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('kiln'))), []);
  const r = await say(page, REQUEST);
  assert.equal(r.phase, 'OAUTH_FLOW', 'a fresh start works');
});

await scenario('a corrupt session among good ones: remove just that record', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  await say(page, REQUEST);
  const good = await currentSession(page);
  await page.click('#new-session');
  await say(page, 'When a new issue is opened in GitHub, create a task in Jira');
  const bad = await currentSession(page);
  // Neither a record nor JSON (a JSON object would be taken for a session of format 1: below).
  await page.evaluate((id) => localStorage.setItem(`kiln/v1/sessions/${id}.json`, 'hello world'), bad.session_id);
  await page.reload();
  assert.match(await fatalShown(page), /not a session/);
  await page.click('#fatal button:has-text("Remove the damaged record")');
  assert.equal(await page.locator('#fatal').isHidden(), true);
  assert.deepEqual(await page.$$eval('#session-list li', (lis) => lis.map((li) => li.dataset.sessionId)), [good.session_id]);
  assert.deepEqual(await guest(page, (kiln, id) => JSON.parse(kiln.getSession(id)), good.session_id), good);
});

// This page does not read sessions of formats 1 (JSON) and 2 (kiln-core's `old-records`, left
// out of the browser build): it names them, keeps them and offers them as downloads.
await scenario('sessions saved by an older Kiln: kept, named, offered as a download', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  await say(page, REQUEST);
  const good = await currentSession(page);
  const hex = readFileSync(new URL('../../guest/core/src/builder/record/format_2.hex', import.meta.url), 'utf8').trim();
  const v2 = Buffer.from(hex, 'hex');
  const v2Key = 'sessions/00000000-0000-4000-8000-000000000002.json';
  const v1Key = 'sessions/00000000-0000-4000-8000-000000000001.json';
  const v1 = JSON.stringify({ session_id: '00000000-0000-4000-8000-000000000001', phase: 'DISCOVERY' });
  const stored = { [`kiln/v1/${v2Key}`]: `\u0001base64,${v2.toString('base64')}`, [`kiln/v1/${v1Key}`]: v1 };
  await page.evaluate((items) => Object.entries(items).forEach(([k, v]) => localStorage.setItem(k, v)), stored);
  await page.reload();
  let text = await fatalShown(page);
  assert.match(await page.locator('#fatal-title').innerText(), /A session saved by an older Kiln/);
  assert.match(text, new RegExp(`${v1Key} holds a session saved by an older Kiln \\(session format 1\\)`));
  assert.match(text, /download it to keep it/);
  assert.deepEqual(await page.evaluate((keys) => keys.map((k) => localStorage.getItem(k)), Object.keys(stored)), Object.values(stored), 'left untouched');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#fatal button:has-text("Download it")')]);
  assert.equal(download.suggestedFilename(), '00000000-0000-4000-8000-000000000001.json');
  assert.equal(readFileSync(await download.path(), 'utf8'), v1, 'the stored JSON, as it is');
  await page.click('#fatal button:has-text("Remove it")');
  // The next one: a format 2 record, downloaded as its bytes.
  text = await fatalShown(page);
  assert.match(text, new RegExp(`${v2Key} holds a session saved by an older Kiln \\(session format 2\\)`));
  const [record] = await Promise.all([page.waitForEvent('download'), page.click('#fatal button:has-text("Download it")')]);
  assert.deepEqual(readFileSync(await record.path()), v2, 'the record, byte for byte');
  await page.click('#fatal button:has-text("Remove it")');
  assert.equal(await page.locator('#fatal').isHidden(), true);
  assert.deepEqual(await page.$$eval('#session-list li', (lis) => lis.map((li) => li.dataset.sessionId)), [good.session_id]);
  assert.deepEqual(await page.evaluate((keys) => keys.map((k) => localStorage.getItem(k)), Object.keys(stored)), [null, null]);
});

await scenario('an unreadable transcript: a note, the session intact', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  await say(page, REQUEST);
  const v = await currentSession(page);
  await page.evaluate((id) => localStorage.setItem(`kiln-ui/v1/transcripts/${id}`, 'garbage'), v.session_id);
  await page.reload();
  await page.waitForSelector(LOADED);
  assert.match(await page.locator('#log .msg.note').innerText(), /transcript of this session was unreadable/);
  assert.equal(await page.locator('#stepper li[aria-current="step"]').getAttribute('data-phase'), 'OAUTH_FLOW');
  assert.equal(await page.locator('#actions button[data-kind="connect"]').count(), 0, 'no stale actions without a transcript');
});

await scenario('a full localStorage: reported, nothing lost', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  await say(page, REQUEST);
  const v = await currentSession(page);
  const filled = await page.evaluate(() => {
    let n = 0;
    for (let size = 1 << 20; size >= 1; size >>= 1) {
      for (;;) {
        try {
          localStorage.setItem(`junk-${n++}`, 'x'.repeat(size));
        } catch {
          break;
        }
      }
    }
    return n;
  });
  assert.ok(filled > 0);
  await page.focus('#composer-text');
  await page.keyboard.type('London time');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#log .msg.error');
  const error = await page.locator('#log .msg.error').last().innerText();
  assert.match(error, /storage for this site is full/);
  assert.match(error, /delete sessions you no longer need/);
  assert.deepEqual(await currentSession(page), v, 'the session keeps its last stored state');
  await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('junk-')).forEach((k) => localStorage.removeItem(k)));
  await page.focus('#composer-text');
  await page.keyboard.type('London time');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.body.dataset.busy === 'false' && document.querySelector('#log > .msg:last-child.kiln'));
  assert.ok((await currentSession(page)).requirements.some((r) => r.field === 'timezone'), 'with space again, the turn goes through');
});
