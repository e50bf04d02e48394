"""The Python package: kiln.wasm on wasmtime-py with this package's API, sync and asyncio."""

import asyncio
import json

import pytest

from kiln_engine import Caller, Engine, KilnError, LlmError, MemoryStore, StoreError

ME = Caller("local", "local")
REQUEST = "Every weekday at 9, summarise my unread Gmail and post it to Slack #team"


def fixed_clock():
    return 1_795_316_842, 42_000


def seeded(seed):
    state = [seed]

    def fill(n):
        out = bytearray()
        for _ in range(n):
            x = state[0]
            x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
            x ^= x >> 7
            x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
            state[0] = x
            out.append(x & 0xFF)
        return bytes(out)

    return fill


def test_a_conversation_offline_gives_plain_values_and_the_same_bytes_twice():
    def run():
        store = MemoryStore()
        engine = Engine(store, clock=fixed_clock, random=seeded(0x5EED))
        session = engine.start_session(ME)
        chunks = engine.turn(ME, session["session_id"], REQUEST)
        assert chunks[-1]["done"] and chunks[-1]["phase"] == "oauth-flow"
        view = engine.get_session(ME, session["session_id"])
        assert view["created_at_ms"] == 1_795_316_842_000
        json.dumps(view)  # plain values only
        state = view["pending_oauth"]["state"]
        assert engine.turn(ME, session["session_id"], {"oauth": {"state": state, "approved": True}})
        return {k: store.get(k) for k in store.list("")}

    first, second = run(), run()
    assert first and first == second


def test_the_llm_function_is_asked_and_its_failures_are_typed_answers():
    asked, progress = [], []

    def llm(request):
        asked.append(request)
        if len(asked) == 1:
            return {"text": "not json at all", "provider": "p", "model": "m"}
        raise LlmError("unavailable", "scripted outage")

    engine = Engine(MemoryStore(), llm=llm)
    sid = engine.start_session(ME)["session_id"]
    chunks = engine.turn(ME, sid, REQUEST, on_progress=progress.append)
    assert len(asked) == 2, "asked, then asked to repair"
    assert asked[0]["purpose"] == "extract" and asked[0]["session_id"] == sid
    assert any(m["role"] == "user" and "Gmail" in m["content"] for m in asked[0]["messages"])
    assert json.loads(asked[0]["json_schema"])
    assert "Reading that again…" in progress
    assert chunks[-1]["phase"] == "oauth-flow", "the rules answered after the outage"


def test_asyncio_turns_interleave_while_the_model_answers():
    order = []

    async def llm(request):
        order.append(("asked", request["session_id"]))
        await asyncio.sleep(0.01)
        raise LlmError("unavailable", "no model in this test")

    async def main():
        engine = Engine(MemoryStore(), llm=llm)
        a = engine.start_session(ME)["session_id"]
        b = engine.start_session(ME)["session_id"]
        done = await asyncio.gather(engine.turn_async(ME, a, REQUEST), engine.turn_async(ME, b, REQUEST))
        return a, b, done, engine

    a, b, done, engine = asyncio.run(main())
    assert [c[-1]["phase"] for c in done] == ["oauth-flow", "oauth-flow"]
    # Both turns were waiting on the model at once: b asked before a finished.
    assert order[:2] == [("asked", a), ("asked", b)]
    assert engine.get_session(ME, a)["turn"] == 1 and engine.get_session(ME, b)["turn"] == 1


class Flaky(MemoryStore):
    def __init__(self):
        super().__init__()
        self.failing = None

    def get(self, key):
        if self.failing == "get":
            raise ConnectionError("connection reset")
        return super().get(key)

    def put(self, key, value, expected):
        if self.failing == "put":
            raise OSError("disk full")
        return super().put(key, value, expected)


@pytest.mark.parametrize("op, message", [("put", "disk full"), ("get", "connection reset")])
def test_a_failing_store_is_a_store_error_and_nothing_is_written(op, message):
    store = Flaky()
    engine = Engine(store)
    sid = engine.start_session(ME)["session_id"]
    before = {k: store.get(k) for k in store.list("")}
    store.failing = op
    with pytest.raises(KilnError) as e:
        engine.turn(ME, sid, REQUEST)
    assert e.value.kind == "store" and message in str(e.value)
    store.failing = None
    assert {k: store.get(k) for k in store.list("")} == before
    assert engine.turn(ME, sid, REQUEST)[-1]["done"], "the engine goes on"


def test_a_store_reports_a_conflict_as_the_typed_case():
    class Refusing(MemoryStore):
        def put(self, key, value, expected):
            raise StoreError("conflict")

    with pytest.raises(KilnError) as e:
        Engine(Refusing()).queue.add("x")
    assert e.value.kind == "contention", e.value


def test_the_queue():
    q = Engine(MemoryStore()).queue
    assert q.next() is None
    a = q.add("first", metadata={"team": "ops"})
    b = q.add("second")
    assert a["metadata"] == {"team": "ops"} and a["workflow_id"] is None
    assert [c["conversation_id"] for c in q.list()] == [a["conversation_id"], b["conversation_id"]]
    assert q.next()["conversation_id"] == a["conversation_id"]
    assert q.start(b["conversation_id"])["was_queued"] is True
    assert q.start(b["conversation_id"])["was_queued"] is False
    paused = q.conversation_step("approve?", "wf-1", {"step": "approval"})
    assert q.start(paused)["conversation"]["workflow_id"] == "wf-1"
    with pytest.raises(KilnError) as e:
        q.add("   ")
    assert e.value.kind == "invalid-input"
