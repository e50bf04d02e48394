"""Runs the parity transcript (host/tests/parity/transcript.json) through this package and
prints its trace as JSON: every store, clock and random call, LLM request, progress line,
chunk and queue answer, then the stored bytes, in host/tests/common/recording.rs's format.
host/tests/plugin_hosts.rs compares it with wasmtime's and Node's."""

import base64
import json
import sys

from kiln_engine import Caller, Engine, LlmError, MemoryStore, StoreError

steps = json.load(open(sys.argv[1]))["steps"]
log = []


def b64(data):
    return base64.b64encode(data).decode()


class Recording:
    def __init__(self):
        self.memory = MemoryStore()

    def get(self, key):
        found = self.memory.get(key)
        log.append(["get", key, None if found is None else [found[1], b64(found[0])]])
        return found

    def put(self, key, value, expected):
        event = ["put", key, b64(value), expected]
        log.append(event)
        try:
            version = self.memory.put(key, value, expected)
        except StoreError as e:
            event.append(e.kind)
            raise
        event.append(version)
        return version

    def delete(self, key, expected):
        event = ["delete", key, expected]
        log.append(event)
        try:
            existed = self.memory.delete(key, expected)
        except StoreError as e:
            event.append(e.kind)
            raise
        event.append(existed)
        return existed

    def list(self, prefix):
        keys = self.memory.list(prefix)
        log.append(["list", prefix, keys])
        return keys


seed = [0x5EED]


def random(n):
    log.append(["fill", n])
    out = bytearray()
    for _ in range(n):
        x = seed[0]
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        seed[0] = x
        out.append(x & 0xFF)
    return bytes(out)


def clock():
    log.append(["now"])
    return 1_795_316_842, 42_000


answered = [0]


def llm(request):
    log.append(["llm", request])
    answered[0] += 1
    n = answered[0]
    if n % 3 == 1:
        return {"text": f"not json, answer {n}", "provider": "script", "model": "m"}
    if n % 3 == 2:
        raise LlmError("unavailable", "scripted outage")
    raise LlmError("rate-limited", "scripted 429")


store = Recording()
engine = Engine(store, llm=llm, clock=clock, random=random)
me = Caller("local", "local")
sid = engine.start_session(me)["session_id"]


def turn(value):
    for chunk in engine.turn(me, sid, value, on_progress=lambda line: log.append(["progress", line])):
        log.append(["chunk", chunk])


def conversation(c):
    return ["conversation", {**c, "metadata": [[k, v] for k, v in c["metadata"].items()]}]


for step in steps:
    if "message" in step:
        turn(step["message"])
    elif "oauth" in step:
        turn({"oauth": {"state": engine.get_session(me, sid)["pending_oauth"]["state"], "approved": step["oauth"]}})
    elif step.get("back"):
        turn({"back": True})
    elif step.get("reset"):
        turn({"reset": True})
    elif "queue_add" in step:
        add = step["queue_add"]
        log.append(conversation(engine.queue.add(add["prompt"], metadata=add["metadata"])))
    elif step.get("queue_next"):
        log.append(conversation(engine.queue.next()))
    else:
        raise SystemExit(f"unknown transcript step {step}")
stored = {k: [store.memory.get(k)[1], b64(store.memory.get(k)[0])] for k in store.memory.list("")}
log.append(["stored", stored])
sys.stdout.write(json.dumps(log, ensure_ascii=False))
