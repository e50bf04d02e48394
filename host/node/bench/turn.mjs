// Per-turn cost and cold instantiation of kiln.wasm in Node (docs/benchmarks.md): the host's
// builder bench's scenario (guest/core/benches/common/scenario.rs): 100 warm-up turns of the
// mix, then offline turns that change one requirement, timed in batches; the median batch.
// Timed as this process's CPU time (process.cpuUsage: user + system), which a loaded machine
// disturbs far less than wall-clock time. `node bench/turn.mjs` after `npm run build`.
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const { createEngine, MemoryStore } = await import('../src/index.js');
const loaded = performance.now();
const engine = await createEngine({ store: new MemoryStore() });
const first = performance.now();
const fresh = [];
for (let i = 0; i < 20; i++) {
  const s = process.cpuUsage();
  await createEngine({ store: new MemoryStore() });
  const d = process.cpuUsage(s);
  fresh.push((d.user + d.system) / 1000);
}

const MIX = [
  'Every weekday at 9, summarise my unread Gmail and post it to Slack #team',
  'status',
  'post it to #ops',
  'help',
  "what's the weather?",
];
const who = { tenantId: 'bench', userId: 'bench' };
const { sessionId } = engine.startSession(who);
const offline = { llm: false };
for (let i = 0; i < 100; i++) await engine.turn(who, sessionId, MIX[i % MIX.length], offline);
let flip = false;
const batches = [];
const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
for (let b = 0; b < 30; b++) {
  const s = cpuUs();
  for (let i = 0; i < 200; i++) {
    flip = !flip;
    await engine.turn(who, sessionId, flip ? 'post it to #team' : 'post it to #ops', offline);
  }
  batches.push((cpuUs() - s) / 200);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({
  node: process.version,
  importMs: +(loaded - t0).toFixed(1),
  coldCreateEngineMs: +(first - loaded).toFixed(1),
  warmCreateEngineCpuMs: +median(fresh).toFixed(2),
  turnCpuUsMedian: +median(batches).toFixed(1),
  turnCpuUsMin: +Math.min(...batches).toFixed(1),
  turnCpuUsMax: +Math.max(...batches).toFixed(1),
}));
