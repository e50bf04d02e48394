// Runs the parity transcript (host/tests/parity/transcript.json) through this package and
// prints its trace as JSON: every store, clock and random call, LLM request, progress line,
// chunk and queue answer, then the stored bytes, in host/tests/common/recording.rs's format.
// host/tests/plugin_hosts.rs compares it with wasmtime's and Python's.
import { readFileSync } from 'node:fs';

import { LlmError, MemoryStore, createEngine } from '../src/index.js';

const { steps } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const log = [];
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const shownExpected = (e) => (typeof e === 'object' ? e.version : e);

/** A jco value as the trace shows it: snake_case keys, null for absent options. */
function snake(v) {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map(snake);
  if (typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snake(x)]));
}

const memory = new MemoryStore();
const store = {
  get(key) {
    const e = memory.get(key);
    log.push(['get', key, e ? [e.version, b64(e.value)] : null]);
    return e;
  },
  put(key, value, expected) {
    const event = ['put', key, b64(value), shownExpected(expected)];
    log.push(event);
    try {
      const v = memory.put(key, value, expected);
      event.push(v);
      return v;
    } catch (e) {
      event.push(e.kind);
      throw e;
    }
  },
  delete(key, expected) {
    const event = ['delete', key, shownExpected(expected)];
    log.push(event);
    try {
      const existed = memory.delete(key, expected);
      event.push(existed);
      return existed;
    } catch (e) {
      event.push(e.kind);
      throw e;
    }
  },
  list(prefix) {
    const keys = memory.list(prefix);
    log.push(['list', prefix, keys]);
    return keys;
  },
};
let x = 0x5eedn;
const random = (len) => {
  log.push(['fill', len]);
  return Uint8Array.from({ length: len }, () => {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    return Number(x & 0xffn);
  });
};
const clock = () => {
  log.push(['now']);
  return { seconds: 1_795_316_842, nanoseconds: 42_000 };
};
let answered = 0;
const llm = async (request) => {
  log.push(['llm', snake(request)]);
  answered += 1;
  if (answered % 3 === 1) return { text: `not json, answer ${answered}`, provider: 'script', model: 'm' };
  if (answered % 3 === 2) throw new LlmError('unavailable', 'scripted outage');
  throw new LlmError('rate-limited', 'scripted 429');
};

const engine = await createEngine({ store, llm, clock, random });
const me = { tenantId: 'local', userId: 'local' };
const { sessionId } = engine.startSession(me);
const options = { onProgress: (line) => log.push(['progress', line]) };
const turn = async (input) => {
  for (const c of await engine.turn(me, sessionId, input, options)) log.push(['chunk', snake(c)]);
};
const conversation = (c) => ['conversation', { ...snake(c), metadata: Object.entries(c.metadata) }];
for (const step of steps) {
  if (typeof step.message === 'string') await turn(step.message);
  else if ('oauth' in step) await turn({ oauth: { state: engine.getSession(me, sessionId).pendingOauth.state, approved: step.oauth } });
  else if (step.back) await turn({ back: true });
  else if (step.reset) await turn({ reset: true });
  else if (step.queue_add) log.push(conversation(engine.queue.add(step.queue_add)));
  else if (step.queue_next) log.push(conversation(engine.queue.next()));
  else throw new Error(`unknown transcript step ${JSON.stringify(step)}`);
}
const stored = Object.fromEntries(memory.list('').map((k) => [k, [memory.get(k).version, b64(memory.get(k).value)]]));
log.push(['stored', stored]);
process.stdout.write(JSON.stringify(log));
