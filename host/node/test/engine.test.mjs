// The Node package end to end: kiln.wasm through jco with this package's API, an OpenAI-compatible
// LLM on a loopback HTTP server, typed store errors, the queue. Run by host/tests/plugin_hosts.rs.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { KilnError, MemoryStore, StoreError, WIT_VERSION, createEngine, openAiLlm } from '../src/index.js';

const who = { tenantId: 'local', userId: 'local' };
const REQUEST = 'Every weekday at 9, summarise my unread Gmail and post it to Slack #team';
const fixedClock = () => ({ seconds: 1_795_316_842, nanoseconds: 42_000 });
function seeded(seed) {
  let x = BigInt(seed);
  return (len) =>
    Uint8Array.from({ length: len }, () => {
      x ^= (x << 13n) & 0xffffffffffffffffn;
      x ^= x >> 7n;
      x ^= (x << 17n) & 0xffffffffffffffffn;
      return Number(x & 0xffn);
    });
}

test('a conversation offline: plain numbers, JSON-safe views, the same bytes for the same inputs', async () => {
  const run = async () => {
    const store = new MemoryStore();
    const engine = await createEngine({ store, clock: fixedClock, random: seeded(0x5eed) });
    const session = engine.startSession(who);
    const chunks = await engine.turn(who, session.sessionId, REQUEST);
    assert.equal(chunks.at(-1).done, true);
    assert.equal(chunks.at(-1).phase, 'oauth-flow', 'Gmail needs a connection');
    const view = engine.getSession(who, session.sessionId);
    assert.equal(typeof view.version, 'number');
    assert.equal(view.createdAtMs, 1_795_316_842_000);
    JSON.stringify(view); // throws on a BigInt
    const state = view.pendingOauth.state;
    const next = await engine.turn(who, session.sessionId, { oauth: { state, approved: true } });
    assert.ok(next.length > 0);
    return store.list('').map((k) => [k, Buffer.from(store.get(k).value).toString('base64')]);
  };
  const [a, b] = [await run(), await run()];
  assert.ok(a.length >= 1);
  assert.deepEqual(a, b);
});

test('the LLM over HTTP (OpenAI-compatible): requests, a repair, an outage', async () => {
  const bodies = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const part of req) body += part;
    bodies.push({ url: req.url, auth: req.headers.authorization, body: JSON.parse(body) });
    if (bodies.length === 2) {
      res.writeHead(503).end('{"error":{"message":"overloaded"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'not json at all' } }] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const baseUrl = `http://127.0.0.1:${server.address().port}/v1`;
    const engine = await createEngine({ store: new MemoryStore(), llm: openAiLlm({ baseUrl, model: 'tiny', apiKey: 'k' }) });
    const { sessionId } = engine.startSession(who);
    const progress = [];
    const chunks = await engine.turn(who, sessionId, REQUEST, { onProgress: (p) => progress.push(p) });
    assert.equal(bodies.length, 2, 'asked once, then once more to repair the unreadable answer');
    assert.equal(bodies[0].url, '/v1/chat/completions');
    assert.equal(bodies[0].auth, 'Bearer k');
    assert.equal(bodies[0].body.model, 'tiny');
    assert.equal(bodies[0].body.response_format.type, 'json_schema');
    assert.ok(bodies[0].body.messages.some((m) => m.role === 'user' && m.content.includes('Gmail')));
    assert.ok(progress.includes('Reading that again…'), progress.join(' | '));
    // The 503 left the rules to answer: the turn still completed.
    assert.equal(chunks.at(-1).phase, 'oauth-flow');
  } finally {
    server.close();
  }
});

test('a throwing store is a typed store error, and the engine goes on', async () => {
  const store = new MemoryStore();
  let failing = false;
  const flaky = {
    get: (k) => store.get(k),
    put: (k, v, e) => {
      if (failing) throw new Error('disk full');
      return store.put(k, v, e);
    },
    delete: (k, e) => store.delete(k, e),
    list: (p) => store.list(p),
  };
  const engine = await createEngine({ store: flaky });
  const { sessionId } = engine.startSession(who);
  const before = store.list('').map((k) => [k, store.get(k).version]);
  failing = true;
  await assert.rejects(engine.turn(who, sessionId, REQUEST), (e) => {
    assert.ok(e instanceof KilnError);
    assert.equal(e.kind, 'store');
    assert.match(e.message, /disk full/);
    return true;
  });
  assert.deepEqual(store.list('').map((k) => [k, store.get(k).version]), before, 'nothing written');
  failing = false;
  const chunks = await engine.turn(who, sessionId, REQUEST);
  assert.equal(chunks.at(-1).done, true);
  // A store may report a conflict itself, as the WIT's typed case.
  const conflicted = await createEngine({ store: { ...flaky, put: () => { throw new StoreError('conflict'); } } });
  assert.throws(() => conflicted.queue.add({ prompt: 'x' }), (e) => e.kind === 'contention' || e.kind === 'store');
});

test('a clock that throws stops the call, and the next call gets a fresh instance', async () => {
  let broken = true;
  const engine = await createEngine({
    store: new MemoryStore(),
    clock: () => {
      if (broken) throw new Error('no time');
      return fixedClock();
    },
  });
  assert.throws(() => engine.startSession(who), (e) => e.kind === 'internal' && /no time/.test(e.message));
  broken = false;
  assert.equal(engine.startSession(who).phase, 'idle');
});

test('the queue: add, list, next, start, the workflow step', async () => {
  const engine = await createEngine({ store: new MemoryStore() });
  assert.equal(engine.queue.next(), null);
  const a = engine.queue.add({ prompt: 'first', metadata: { team: 'ops' } });
  const b = engine.queue.add({ prompt: 'second' });
  assert.deepEqual(a.metadata, { team: 'ops' });
  assert.equal(a.workflowId, null);
  assert.deepEqual(engine.queue.list().map((c) => c.conversationId), [a.conversationId, b.conversationId]);
  assert.equal(engine.queue.next().conversationId, a.conversationId);
  assert.equal(engine.queue.start(b.conversationId).wasQueued, true);
  assert.equal(engine.queue.start(b.conversationId).wasQueued, false);
  const paused = engine.queue.conversationStep('approve?', 'wf-1', { step: 'approval' });
  assert.equal(engine.queue.start(paused).conversation.workflowId, 'wf-1');
  assert.throws(() => engine.queue.add({ prompt: '  ' }), (e) => e.kind === 'invalid-input');
});

test("the imports answer the versioned keys jco's .d.ts names", async () => {
  const dts = await readFile(new URL('../dist/kiln.d.ts', import.meta.url), 'utf8');
  const keys = [...dts.matchAll(/'(kiln:engine\/[a-z-]+@[0-9.]+)': typeof/g)].map((m) => m[1]);
  assert.ok(keys.length >= 6, dts);
  for (const key of keys) {
    assert.ok(key.endsWith(`@${WIT_VERSION}`), `${key}: the package expects ${WIT_VERSION}`);
  }
});
