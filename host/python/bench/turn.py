"""Per-turn cost and cold instantiation of kiln.wasm on wasmtime-py (docs/benchmarks.md): the
host's builder bench's scenario (guest/core/benches/common/scenario.rs): 100 warm-up turns
of the mix, then offline turns that change one requirement, timed in batches as this
process's CPU time; the median batch. `target/pyhost/bin/python host/python/bench/turn.py`."""

import json
import statistics
import time
from importlib.metadata import version

from kiln_engine import Caller, Engine, MemoryStore

t0 = time.perf_counter()
engine = Engine(MemoryStore())  # compiles kiln.wasm (wasmtime's JIT), then instantiates
cold = time.perf_counter() - t0
warm = []
for _ in range(10):
    s = time.process_time()
    Engine(MemoryStore())
    warm.append(time.process_time() - s)

MIX = [
    "Every weekday at 9, summarise my unread Gmail and post it to Slack #team",
    "status",
    "post it to #ops",
    "help",
    "what's the weather?",
]
me = Caller("bench", "bench")
sid = engine.start_session(me)["session_id"]
for i in range(100):
    engine.turn(me, sid, MIX[i % len(MIX)], llm=False)
flip = False
batches = []
for _ in range(20):
    s = time.process_time()
    for _ in range(100):
        flip = not flip
        engine.turn(me, sid, "post it to #team" if flip else "post it to #ops", llm=False)
    batches.append((time.process_time() - s) / 100 * 1e6)
print(json.dumps({
    "wasmtime_py": version("wasmtime"),
    "cold_compile_and_instantiate_s": round(cold, 2),
    "engine_again_cpu_ms": round(statistics.median(warm) * 1000, 2),
    "turn_cpu_us_median": round(statistics.median(batches), 1),
    "turn_cpu_us_min": round(min(batches), 1),
}))
