"""kiln.wasm run by wasmtime's Python package, behind a small API.

Values: the WIT's records become dicts with snake_case keys, enums strings, options
``None`` or the value. Turns run through the WIT step protocol (``builder.turn-begin`` /
``turn-resume``, kiln:engine@0.3.1): :meth:`Engine.turn` answers each LLM call with a
synchronous function, :meth:`Engine.turn_async` awaits an async one.
"""

from __future__ import annotations

import inspect
import os
import secrets
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Optional

from wasmtime import Engine as WasmEngine, Store as WasmStore
from wasmtime.component import Component, Linker, Record, Variant

from .stores import StoreError

WIT_VERSION = "0.3.2"
_DAY_MS = 24 * 3600 * 1000


class KilnError(Exception):
    """An error from the engine: ``kind`` is the WIT error case (``not-found``, ``store``, ...)."""

    def __init__(self, kind: str, message: str = "", detail: Any = None) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.detail = detail


class LlmError(Exception):
    """Raised by an LLM function to say why there is no completion (a WIT ``llm-error`` case)."""

    KINDS = ("rate-limited", "unavailable", "context-too-long", "invalid-request", "bad-output", "no-provider")

    def __init__(self, kind: str, message: str = "") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"LLM error kind {kind!r} is not one of {self.KINDS}")
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.detail = message


@dataclass(frozen=True)
class Caller:
    """Who is asking; every session access is checked against both ids."""

    tenant_id: str
    user_id: str


def _record(**fields: Any) -> Record:
    r = Record()
    for name, value in fields.items():
        setattr(r, name.replace("_", "-"), value)
    return r


def plain(value: Any) -> Any:
    """A wasmtime-py value as plain Python: dicts with snake_case keys, lists, tuples."""
    if isinstance(value, Record):
        return {k.replace("-", "_"): plain(v) for k, v in vars(value).items()}
    if isinstance(value, Variant):
        return {"tag": value.tag, "value": plain(value.payload)}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def _message(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Variant):
        inner = _message(value.payload)
        return f"{value.tag}: {inner}" if inner else value.tag
    if isinstance(value, Record):
        return str(getattr(value, "detail", "")) or str(plain(value))
    return str(value)


class _Abort(Exception):
    """A failure the WIT cannot carry from this import: the call is abandoned (a trap)."""


def _store_error(e: BaseException) -> Variant:
    if isinstance(e, StoreError):
        return Variant("conflict") if e.kind == "conflict" else Variant(e.kind, e.detail)
    return Variant("backend", f"the store failed: {e}")


def _expected(p: Variant) -> Any:
    return p.payload if p.tag == "matches" else p.tag


def _turn_input(value: Any) -> Variant:
    if isinstance(value, str):
        return Variant("message", value)
    if isinstance(value, dict):
        if "message" in value:
            return Variant("message", str(value["message"]))
        if "oauth" in value:
            o = value["oauth"]
            return Variant("oauth", _record(state=str(o["state"]), approved=bool(o["approved"])))
        if value.get("back"):
            return Variant("back")
        if value.get("reset"):
            return Variant("reset")
    raise KilnError(
        "invalid-input",
        "a turn input is a message string, {'message': ...}, {'oauth': {'state', 'approved'}}, {'back': True} or {'reset': True}",
    )


def _system_clock() -> tuple[int, int]:
    ns = time.time_ns()
    return ns // 1_000_000_000, ns % 1_000_000_000


_compiled: dict[str, tuple[WasmEngine, Component]] = {}


def _component(path: Optional[str]) -> tuple[WasmEngine, Component]:
    """kiln.wasm compiled once per process (wasmtime's JIT: a few seconds)."""
    if path is None:
        path = os.environ.get("KILN_WASM") or str(resources.files(__package__).joinpath("kiln.wasm"))
    if path not in _compiled:
        engine = WasmEngine()
        _compiled[path] = (engine, Component.from_file(engine, path))
    return _compiled[path]


class _Queue:
    def __init__(self, engine: "Engine") -> None:
        self._engine = engine

    def _call(self, name: str, *args: Any) -> Any:
        return self._engine._call("queue", name, *args)

    @staticmethod
    def _conversation(c: Record) -> dict:
        d = plain(c)
        d["metadata"] = dict(d["metadata"])
        return d

    def add(self, prompt: str, workflow_id: Optional[str] = None, metadata: Optional[dict] = None) -> dict:
        request = _record(prompt=prompt, workflow_id=workflow_id, metadata=sorted((metadata or {}).items()))
        return self._conversation(self._call("add", request))

    def list(self) -> list[dict]:
        return [self._conversation(c) for c in self._call("list")]

    def next(self) -> Optional[dict]:
        c = self._call("next")
        return None if c is None else self._conversation(c)

    def start(self, conversation_id: str) -> dict:
        s = self._call("start", conversation_id)
        return {"conversation": self._conversation(s.conversation), "was_queued": getattr(s, "was-queued")}

    def conversation_step(self, prompt: str, workflow_id: str, metadata: Optional[dict] = None) -> str:
        return self._call("conversation-step", prompt, workflow_id, sorted((metadata or {}).items()))


class Engine:
    """The engine over ``store`` (see :mod:`kiln_engine.stores`), ``llm`` (request dict ->
    ``{"text", "provider", "model"}``, sync for :meth:`turn`, sync or async for
    :meth:`turn_async`; optional: without it turns take the rule-based path), ``clock``
    (``() -> (seconds, nanoseconds)``) and ``random`` (``n -> bytes``)."""

    def __init__(
        self,
        store: Any,
        llm: Optional[Callable[[dict], Any]] = None,
        clock: Callable[[], tuple[int, int]] = _system_clock,
        random: Callable[[int], bytes] = secrets.token_bytes,
        wasm_path: Optional[str] = None,
    ) -> None:
        self._store = store
        self._llm = llm
        self._clock = clock
        self._random = random
        self._wasm, self._component = _component(wasm_path)
        self._linker = self._link()
        self._generation = 0
        self._fresh()
        self.queue = _Queue(self)

    # --- imports ---

    def _link(self) -> Linker:
        linker = Linker(self._wasm)
        store = self._store

        def guarded(run: Callable[[], Any]) -> Any:
            try:
                return run()
            except Exception as e:  # any failure of the store becomes its typed error
                return _store_error(e)

        def get(_, key: str) -> Any:
            try:
                found = store.get(key)
            except Exception as e:
                # wasmtime-py 51 cannot lower `err` of result<option<entry>, store-error>
                # (its untagged-result rule takes any value for the `ok` option), so a failed
                # read ends the call instead; see README.
                raise _Abort(str(_message(_store_error(e)))) from e
            if found is None:
                return None
            value, version = found
            return _record(value=bytes(value), version=int(version))

        def put(_, key: str, value: bytes, expected: Variant) -> Any:
            return guarded(lambda: int(store.put(key, value, _expected(expected))))

        def delete(_, key: str, expected: Variant) -> Any:
            return guarded(lambda: bool(store.delete(key, _expected(expected))))

        def list_(_, prefix: str) -> Any:
            return guarded(lambda: [str(k) for k in store.list(prefix)])

        def now(_) -> Record:
            seconds, nanoseconds = self._clock()
            return _record(seconds=int(seconds), nanoseconds=int(nanoseconds))

        def fill(_, n: int) -> bytes:
            return bytes(self._random(n))

        imports = {
            "store": {"get": get, "put": put, "delete": delete, "list": list_},
            "clock": {"now": now},
            "random": {"fill": fill},
            "builder-types": {},
            # The step protocol answers the LLM; the blocking exports (unused) are told there is none.
            "llm": {"complete": lambda _, request: Variant("no-provider")},
            "emit": {"progress": lambda _, session_id, text: None, "chunk": lambda _, chunk: None},
        }
        with linker.root() as root:
            for interface, funcs in imports.items():
                with root.add_instance(f"kiln:engine/{interface}@{WIT_VERSION}") as instance:
                    for name, func in funcs.items():
                        instance.add_func(name, func)
        return linker

    def _fresh(self) -> None:
        self._generation += 1
        self._wstore = WasmStore(self._wasm)
        self._instance = self._linker.instantiate(self._wstore, self._component)
        self._funcs: dict[tuple[str, str], Any] = {}

    def _func(self, interface: str, name: str) -> Any:
        key = (interface, name)
        if key not in self._funcs:
            parent = self._instance.get_export_index(self._wstore, f"kiln:engine/{interface}@{WIT_VERSION}")
            index = self._instance.get_export_index(self._wstore, name, parent)
            self._funcs[key] = self._instance.get_func(self._wstore, index)
        return self._funcs[key]

    def _call(self, interface: str, name: str, *args: Any) -> Any:
        """Calls an export: its typed error becomes a KilnError; a trap or an exception from
        an import replaces the instance (nothing unfinished was stored)."""
        try:
            result = self._func(interface, name)(self._wstore, *args)
        except _Abort as e:
            self._fresh()
            raise KilnError("store", str(e)) from e
        except Exception as e:
            self._fresh()
            raise KilnError("internal", f"the engine stopped ({e}); it was restarted, nothing unfinished was stored") from e
        # Every export's `ok` is a record, list, string, number or None: an error is the one Variant.
        if isinstance(result, Variant):
            raise KilnError(result.tag, _message(result.payload), plain(result.payload))
        return result

    # --- the builder ---

    @staticmethod
    def _caller(c: Caller) -> Record:
        return _record(tenant_id=c.tenant_id, user_id=c.user_id)

    def _options(self, llm: Optional[bool], context: bool, idle_timeout_ms: int, oauth_ttl_ms: int) -> Record:
        return _record(
            context=context,
            llm=self._llm is not None if llm is None else llm,
            idle_timeout_ms=idle_timeout_ms,
            oauth_ttl_ms=oauth_ttl_ms,
        )

    def start_session(self, caller: Caller) -> dict:
        return plain(self._call("builder", "start-session", self._caller(caller)))

    def get_session(self, caller: Caller, session_id: str) -> dict:
        return plain(self._call("builder", "get-session", self._caller(caller), session_id))

    def list_sessions(self, caller: Caller) -> list[dict]:
        return plain(self._call("builder", "list-sessions", self._caller(caller)))

    def delete_session(self, caller: Caller, session_id: str) -> None:
        self._call("builder", "delete-session", self._caller(caller), session_id)

    def expire_idle(self, idle_timeout_ms: int) -> int:
        return self._call("builder", "expire-idle", idle_timeout_ms)

    def export_agent(self, caller: Caller, session_id: str) -> str:
        """The agent spec document (JSON text)."""
        return self._call("builder", "export-agent", self._caller(caller), session_id)

    def providers(self) -> list[dict]:
        return plain(self._call("builder", "providers"))

    def _begin(self, caller: Caller, session_id: str, input: Any, options: Record) -> Any:
        return self._call("builder", "turn-begin", self._caller(caller), session_id, _turn_input(input), options)

    def _resume(self, born: int, wait: Record, reply: Any) -> Any:
        if self._generation != born:
            raise KilnError("internal", "the engine restarted while this turn waited for the LLM; run the turn again")
        return self._call("builder", "turn-resume", wait.continuation, reply)

    @staticmethod
    def _answer(reply: Any) -> Any:
        return _record(text=str(reply["text"]), provider=str(reply.get("provider", "")), model=str(reply.get("model", "")))

    @staticmethod
    def _failure(e: BaseException) -> Variant:
        if isinstance(e, LlmError):
            return Variant("no-provider") if e.kind == "no-provider" else Variant(e.kind, e.detail)
        return Variant("unavailable", f"the LLM function failed: {e}")

    def turn(
        self,
        caller: Caller,
        session_id: str,
        input: Any,
        *,
        llm: Optional[bool] = None,
        context: bool = True,
        idle_timeout_ms: int = _DAY_MS,
        oauth_ttl_ms: int = 10 * 60 * 1000,
        on_progress: Optional[Callable[[str], None]] = None,
    ) -> list[dict]:
        """Runs one turn; the LLM function is called synchronously. Returns the chunks."""
        born = self._generation
        step = self._begin(caller, session_id, input, self._options(llm, context, idle_timeout_ms, oauth_ttl_ms))
        while isinstance(step, Record):  # llm-wait; `done` is the list of chunks
            if on_progress:
                on_progress(step.progress)
            try:
                reply = self._answer(self._require_llm()(plain(step.request)))
            except Exception as e:
                reply = self._failure(e)
            step = self._resume(born, step, reply)
        return plain(step)

    async def turn_async(
        self,
        caller: Caller,
        session_id: str,
        input: Any,
        *,
        llm: Optional[bool] = None,
        context: bool = True,
        idle_timeout_ms: int = _DAY_MS,
        oauth_ttl_ms: int = 10 * 60 * 1000,
        on_progress: Optional[Callable[[str], None]] = None,
    ) -> list[dict]:
        """Like :meth:`turn`, awaiting the LLM function (sync or async) between steps: the
        event loop runs while the model answers."""
        born = self._generation
        step = self._begin(caller, session_id, input, self._options(llm, context, idle_timeout_ms, oauth_ttl_ms))
        while isinstance(step, Record):
            if on_progress:
                on_progress(step.progress)
            try:
                answer = self._require_llm()(plain(step.request))
                if inspect.isawaitable(answer):
                    answer = await answer
                reply = self._answer(answer)
            except Exception as e:
                reply = self._failure(e)
            step = self._resume(born, step, reply)
        return plain(step)

    def _require_llm(self) -> Callable[[dict], Any]:
        if self._llm is None:
            raise LlmError("no-provider", "no llm function was given to Engine")
        return self._llm
