// Kiln's engine for Node: kiln.wasm (transpiled by jco into dist/) behind a small API.
//
// - Turns are async: they use the WIT step protocol (builder.turn-begin / turn-resume), so the
//   LLM is any async function (fetch). Everything else is synchronous, like the store.
// - Numbers, not BigInt: u64 values are converted at this boundary.
// - Store failures become the WIT's typed store errors; an exception from the clock or
//   random function, or a trap, discards the instance (as wasmtime discards a trapped store)
//   and the next call gets a fresh one: the store holds only committed turns.
import { readFile } from 'node:fs/promises';
import { webcrypto } from 'node:crypto';

import { instantiate } from '../dist/kiln.js';

/** An error from the engine: `kind` is the WIT error case (`not-found`, `store`, ...). */
export class KilnError extends Error {
  constructor(kind, message, detail) {
    super(message ? `${kind}: ${message}` : kind);
    this.name = 'KilnError';
    this.kind = kind;
    this.detail = detail;
  }
}

/** Thrown by a store to report a typed failure: `conflict`, `invalid-key` or `backend`. */
export class StoreError extends Error {
  constructor(kind, message = '') {
    super(message ? `${kind}: ${message}` : kind);
    this.name = 'StoreError';
    this.kind = kind;
    this.detail = message;
  }
}

/** Thrown by an LLM function to say why there is no completion (a WIT `llm-error` case). */
export class LlmError extends Error {
  constructor(kind, message = '') {
    super(message ? `${kind}: ${message}` : kind);
    this.name = 'LlmError';
    this.kind = kind;
    this.detail = message;
  }
}

const STORE_KINDS = ['conflict', 'invalid-key', 'backend'];
const LLM_KINDS = ['rate-limited', 'unavailable', 'context-too-long', 'invalid-request', 'bad-output', 'no-provider'];

/** The reference store: keys in a Map, versions from one counter (never reused). */
export class MemoryStore {
  #entries = new Map();
  #version = 0;

  get(key) {
    return this.#entries.get(key);
  }

  put(key, value, expected) {
    this.#check(key, expected);
    this.#version += 1;
    this.#entries.set(key, { value: Uint8Array.from(value), version: this.#version });
    return this.#version;
  }

  delete(key, expected) {
    this.#check(key, expected);
    return this.#entries.delete(key);
  }

  list(prefix) {
    return [...this.#entries.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  #check(key, expected) {
    const have = this.#entries.get(key);
    const ok =
      expected === 'any' ||
      (expected === 'absent' && have === undefined) ||
      (typeof expected === 'object' && have !== undefined && have.version === expected.version);
    if (!ok) {
      throw new StoreError('conflict');
    }
  }
}

/**
 * An LLM function for any OpenAI-compatible `/chat/completions` endpoint, with `fetch`.
 * Structured output through `response_format: json_schema`.
 */
export function openAiLlm({ baseUrl, model, apiKey, fetch: doFetch = globalThis.fetch, timeoutMs = 60_000 }) {
  const url = `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
  return async (request) => {
    const body = {
      model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    };
    if (request.jsonSchema !== undefined) {
      body.response_format = {
        type: 'json_schema',
        json_schema: { name: `kiln_${request.purpose}`, schema: JSON.parse(request.jsonSchema) },
      };
    }
    const headers = { 'content-type': 'application/json' };
    if (apiKey) {
      headers.authorization = `Bearer ${apiKey}`;
    }
    let response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new LlmError('unavailable', `${url}: ${e.cause?.message ?? e.message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      const kind =
        response.status === 429
          ? 'rate-limited'
          : response.status >= 500
            ? 'unavailable'
            : /context|too long|maximum.*tokens/i.test(text)
              ? 'context-too-long'
              : 'invalid-request';
      throw new LlmError(kind, `${url} answered ${response.status}: ${text.slice(0, 300)}`);
    }
    let content;
    try {
      content = JSON.parse(text).choices[0].message.content;
    } catch {
      content = undefined;
    }
    if (typeof content !== 'string') {
      throw new LlmError('bad-output', `${url} answered no choices[0].message.content`);
    }
    return { text: content, provider: 'openai-compatible', model };
  };
}

// --- Conversions between this API and jco's values ---

const big = (n) => BigInt(n);
/** A u64 as a number (versions and milliseconds stay far below 2^53). */
const num = (b) => Number(b);

/** The jco value of an error thrown by a store: a WIT `store-error` case. */
function storeErrorPayload(e) {
  if (e instanceof StoreError && STORE_KINDS.includes(e.kind)) {
    return e.kind === 'conflict' ? { tag: 'conflict' } : { tag: e.kind, val: e.detail };
  }
  return { tag: 'backend', val: `the store failed: ${e?.message ?? String(e)}` };
}

function precondition(p) {
  switch (p.tag) {
    case 'matches':
      return { version: num(p.val) };
    default:
      return p.tag;
  }
}

/** A version as the WIT wants it (a store may answer a number or a bigint). */
function version(v) {
  if ((typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) && typeof v !== 'bigint') {
    throw new StoreError('backend', `the store answered version ${String(v)}, not a non-negative integer`);
  }
  return big(v);
}

/** Runs a store method; a thrown error becomes the WIT error (thrown as jco expects). */
function guarded(run) {
  try {
    return run();
  } catch (e) {
    // jco turns a thrown object with a `payload` into `err(payload)` of a result import.
    throw { payload: storeErrorPayload(e) };
  }
}

function storeImport(store) {
  return {
    get: (key) =>
      guarded(() => {
        const e = store.get(key);
        return e == null ? undefined : { value: Uint8Array.from(e.value), version: version(e.version) };
      }),
    put: (key, value, expected) => guarded(() => version(store.put(key, value, precondition(expected)))),
    delete: (key, expected) => guarded(() => Boolean(store.delete(key, precondition(expected)))),
    list: (prefix) => guarded(() => [...store.list(prefix)]),
  };
}

function systemClock() {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanoseconds: (ms % 1000) * 1_000_000 };
}

function systemRandom(len) {
  return webcrypto.getRandomValues(new Uint8Array(len));
}

function clockImport(clock) {
  return {
    now: () => {
      const t = clock();
      return { seconds: big(t.seconds), nanoseconds: t.nanoseconds };
    },
  };
}

const caller = (c) => ({ tenantId: c.tenantId, userId: c.userId });

function turnInput(input) {
  if (typeof input === 'string') {
    return { tag: 'message', val: input };
  }
  if (input?.oauth) {
    return { tag: 'oauth', val: { state: input.oauth.state, approved: Boolean(input.oauth.approved) } };
  }
  if (input?.back) {
    return { tag: 'back' };
  }
  if (input?.reset) {
    return { tag: 'reset' };
  }
  if (typeof input?.message === 'string') {
    return { tag: 'message', val: input.message };
  }
  throw new KilnError('invalid-input', 'a turn input is a message string, {message}, {oauth: {state, approved}}, {back: true} or {reset: true}');
}

const DAY_MS = 24 * 3600 * 1000;

function turnOptions(o, hasLlm) {
  return {
    context: o?.context ?? true,
    llm: o?.llm ?? hasLlm,
    idleTimeoutMs: big(o?.idleTimeoutMs ?? DAY_MS),
    oauthTtlMs: big(o?.oauthTtlMs ?? 10 * 60 * 1000),
  };
}

/** Deep copy with every bigint as a number. */
function plain(v) {
  if (typeof v === 'bigint') {
    return num(v);
  }
  if (Array.isArray(v)) {
    return v.map(plain);
  }
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') {
    return v;
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

/** A queued conversation: metadata as an object, no undefined workflow id. */
function conversation(c) {
  return {
    conversationId: c.conversationId,
    prompt: c.prompt,
    createdAt: c.createdAt,
    workflowId: c.workflowId ?? null,
    metadata: Object.fromEntries(c.metadata),
  };
}

function llmRequest(r) {
  return {
    purpose: r.purpose,
    sessionId: r.sessionId,
    messages: r.messages.map((m) => ({ role: m.role, content: m.content })),
    jsonSchema: r.jsonSchema,
  };
}

function llmAnswer(e) {
  if (e instanceof LlmError && LLM_KINDS.includes(e.kind)) {
    return e.kind === 'no-provider' ? { tag: 'no-provider' } : { tag: e.kind, val: e.detail };
  }
  return { tag: 'unavailable', val: `the LLM function failed: ${e?.message ?? String(e)}` };
}

// --- The engine ---

/** The transpiled component's core modules, compiled once per process. */
let compiled;
function coreModules() {
  compiled ??= (async () => {
    const dir = new URL('../dist/', import.meta.url);
    const names = ['kiln.core.wasm', 'kiln.core2.wasm', 'kiln.core3.wasm'];
    const modules = {};
    for (const name of names) {
      try {
        modules[name] = await WebAssembly.compile(await readFile(new URL(name, dir)));
      } catch (e) {
        if (e.code !== 'ENOENT') {
          throw e;
        }
      }
    }
    return modules;
  })();
  return compiled;
}

/** The `kiln:engine` version of the component in dist/ (its .d.ts names the imports with it). */
export const WIT_VERSION = '0.3.2';

/** The WIT's interfaces, each under the key jco's glue reads and the versioned one its .d.ts names. */
function importObject(interfaces) {
  const out = {};
  for (const [name, impl] of Object.entries(interfaces)) {
    out[`kiln:engine/${name}`] = impl;
    out[`kiln:engine/${name}@${WIT_VERSION}`] = impl;
  }
  return out;
}

/**
 * Creates an engine over `store` (sync: get/put/delete/list), `llm` (async request ->
 * {text, provider, model}; optional: without it turns take the rule-based path), `clock`
 * (() => {seconds, nanoseconds}) and `random` (len => Uint8Array).
 */
export async function createEngine({ store, llm, clock = systemClock, random = systemRandom } = {}) {
  if (!store) {
    throw new KilnError('invalid-input', 'createEngine needs a store (e.g. new MemoryStore())');
  }
  const modules = await coreModules();
  const imports = importObject({
    store: storeImport(store),
    clock: clockImport(clock),
    random: { fill: (len) => Uint8Array.from(random(len)) },
    'builder-types': {},
    // The step protocol answers the LLM; the blocking exports (not used here) are told there is none.
    llm: {
      complete: () => {
        throw { payload: { tag: 'no-provider' } };
      },
    },
    emit: { progress: () => {}, chunk: () => {} },
  });

  let instance;
  let generation = 0;
  const fresh = () => {
    generation += 1;
    instance = instantiate((name) => modules[name], imports, (module, imp) => new WebAssembly.Instance(module, imp));
    return instance;
  };
  fresh();

  /** Calls an export; a typed error becomes a KilnError, anything else discards the instance. */
  const call = (run) => {
    try {
      return run(instance);
    } catch (e) {
      if (e && typeof e === 'object' && 'payload' in e && e.payload?.tag) {
        const { tag, val } = e.payload;
        const message = typeof val === 'string' ? val : val?.tag ? `${val.tag}${val.val ? `: ${val.val}` : ''}` : val?.detail;
        throw new KilnError(tag, message, plain(val));
      }
      fresh();
      throw new KilnError('internal', `the engine stopped (${e?.message ?? String(e)}); it was restarted, nothing unfinished was stored`);
    }
  };

  const b = () => instance.builder;
  const q = () => instance.queue;

  async function turn(who, sessionId, input, options) {
    const born = generation;
    let step = call(() => b().turnBegin(caller(who), sessionId, turnInput(input), turnOptions(options, llm !== undefined)));
    for (;;) {
      if (step.tag === 'done') {
        // A chunk has no u64 field: handed over as jco made it.
        return step.val;
      }
      const { request, progress, continuation } = step.val;
      options?.onProgress?.(progress);
      let answer;
      try {
        const reply = await llm(plain(llmRequest(request)));
        answer = { tag: 'ok', val: { text: String(reply.text), provider: String(reply.provider ?? ''), model: String(reply.model ?? '') } };
      } catch (e) {
        answer = { tag: 'err', val: llmAnswer(e) };
      }
      if (generation !== born) {
        throw new KilnError('internal', 'the engine restarted while this turn waited for the LLM; run the turn again');
      }
      step = call(() => b().turnResume(continuation, answer));
    }
  }

  return {
    startSession: (who) => plain(call(() => b().startSession(caller(who)))),
    turn,
    getSession: (who, id) => plain(call(() => b().getSession(caller(who), id))),
    listSessions: (who) => plain(call(() => b().listSessions(caller(who)))),
    deleteSession: (who, id) => call(() => b().deleteSession(caller(who), id)),
    expireIdle: (idleTimeoutMs) => call(() => b().expireIdle(big(idleTimeoutMs))),
    exportAgent: (who, id) => JSON.parse(call(() => b().exportAgent(caller(who), id))),
    agentSchema: () => JSON.parse(call(() => b().agentSchema())),
    providers: () => plain(call(() => b().providers())),
    queue: {
      add: ({ prompt, workflowId, metadata = {} }) =>
        conversation(call(() => q().add({ prompt, workflowId: workflowId ?? undefined, metadata: Object.entries(metadata) }))),
      list: () => call(() => q().list()).map(conversation),
      next: () => {
        const c = call(() => q().next());
        return c === undefined ? null : conversation(c);
      },
      start: (conversationId) => {
        const s = call(() => q().start(conversationId));
        return { conversation: conversation(s.conversation), wasQueued: s.wasQueued };
      },
      conversationStep: (prompt, workflowId, metadata = {}) =>
        call(() => q().conversationStep(prompt, workflowId, Object.entries(metadata))).val,
    },
  };
}
