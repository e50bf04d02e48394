"""Stores for the engine: a dict, Redis (the kiln binary's layout), one tenant's view.

A store is any object with ``get(key) -> (bytes, version) | None``,
``put(key, value, expected) -> version``, ``delete(key, expected) -> bool`` and
``list(prefix) -> [key]``; ``expected`` is ``"any"``, ``"absent"`` or an ``int`` version.
Raise :class:`StoreError` to report a failure; anything else raised becomes ``backend``.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from typing import Optional, Tuple, Union

Expected = Union[str, int]

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


class StoreError(Exception):
    """A store failure: ``kind`` is ``conflict``, ``invalid-key`` or ``backend``."""

    KINDS = ("conflict", "invalid-key", "backend")

    def __init__(self, kind: str, message: str = "") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"store error kind {kind!r} is not one of {self.KINDS}")
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.detail = message


def validate_key(key: str) -> None:
    """The rule every Kiln store applies (kiln_wire::store::validate_key)."""

    def invalid(why: str) -> StoreError:
        return StoreError("invalid-key", f"{key!r}: {why}")

    if not key:
        raise invalid("the key is empty")
    if len(key.encode()) > 1024:
        raise invalid("longer than 1024 bytes")
    for segment in key.split("/"):
        if not segment:
            raise invalid("empty segment (leading, trailing or doubled '/')")
        if len(segment) > 200:
            raise invalid("a segment is longer than 200 bytes")
        if not _SEGMENT.match(segment):
            raise invalid("each segment starts with a letter or digit and uses A-Z a-z 0-9 . _ -")


class MemoryStore:
    """The reference store: a dict of key -> (bytes, version), versions from one counter."""

    def __init__(self) -> None:
        self._entries: dict[str, Tuple[bytes, int]] = {}
        self._version = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[Tuple[bytes, int]]:
        validate_key(key)
        return self._entries.get(key)

    def put(self, key: str, value: bytes, expected: Expected) -> int:
        validate_key(key)
        with self._lock:
            self._check(key, expected)
            self._version += 1
            self._entries[key] = (bytes(value), self._version)
            return self._version

    def delete(self, key: str, expected: Expected) -> bool:
        validate_key(key)
        with self._lock:
            self._check(key, expected)
            return self._entries.pop(key, None) is not None

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self._entries if k.startswith(prefix))

    def _check(self, key: str, expected: Expected) -> None:
        have = self._entries.get(key)
        ok = (
            expected == "any"
            or (expected == "absent" and have is None)
            or (isinstance(expected, int) and have is not None and have[1] == expected)
        )
        if not ok:
            raise StoreError("conflict")


class TenantStore:
    """One tenant's keys, as the kiln host scopes them: the local tenant (``tenant=None``)
    keeps the store root minus ``kiln-host/`` (the host's own keys); a configured tenant
    lives below ``tenants/<tenant>/``. So a Python service and ``kiln serve`` on one store
    see the same sessions."""

    HOST_PREFIX = "kiln-host/"

    def __init__(self, inner, tenant: Optional[str] = None) -> None:
        if tenant is not None:
            validate_key(tenant)
            if "/" in tenant:
                raise ValueError(f"tenant {tenant!r} must be one key segment")
        self._inner = inner
        self._prefix = "" if tenant is None else f"tenants/{tenant}/"

    def _scoped(self, key: str) -> str:
        if not self._prefix and key.startswith(self.HOST_PREFIX):
            raise StoreError("invalid-key", f"{key!r}: keys below {self.HOST_PREFIX} belong to the host, not to the engine")
        return self._prefix + key

    def get(self, key: str):
        return self._inner.get(self._scoped(key))

    def put(self, key: str, value: bytes, expected: Expected) -> int:
        return self._inner.put(self._scoped(key), value, expected)

    def delete(self, key: str, expected: Expected) -> bool:
        return self._inner.delete(self._scoped(key), expected)

    def list(self, prefix: str) -> list[str]:
        keys = self._inner.list(self._prefix + prefix)
        n = len(self._prefix)
        return [k[n:] for k in keys if n or not k.startswith(self.HOST_PREFIX)]


# The kiln binary's Redis layout and scripts: every key below `kiln:{D}:`; `k:<key>` a hash
# (v = bytes, n = version); `seq` the version counter; `index` a sorted set of every key for
# prefix listings. The scripts are the Rust store's own files (host/store/lua/*.lua), copied
# into the package at build time (setup.py), so the two hosts cannot drift apart.
_SCRIPTS = resources.files(__package__) / "lua"
_PUT = (_SCRIPTS / "put.lua").read_text(encoding="utf-8")
_DELETE = (_SCRIPTS / "delete.lua").read_text(encoding="utf-8")
_LIST_PAGE = (_SCRIPTS / "list_page.lua").read_text(encoding="utf-8")
_LIST_PAGE_SIZE = 512
_OAUTH_RECORDS = "kiln-host/oauth/"
_OAUTH_RECORD_TTL_MS = 24 * 3600 * 1000


def _is_live_session(key: str) -> bool:
    segments = key.split("/")
    return len(segments) >= 2 and segments[-2] == "sessions" and (len(segments) < 3 or segments[-3] != "archive")


class RedisStore:
    """The kiln binary's Redis store (``kiln --store redis://...``), with redis-py.

    ``deployment`` is the ``?deployment=`` of kiln's store URL (default ``default``);
    ``session_ttl_ms`` the TTL live sessions get on each write (kiln serve: its idle timeout
    plus a grace period; ``None``: none).
    """

    def __init__(self, url: str, deployment: str = "default", session_ttl_ms: Optional[int] = None, client=None) -> None:
        import redis

        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", deployment):
            raise ValueError(f"deployment {deployment!r} must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
        self._redis = client or redis.Redis.from_url(url)
        self._url = url
        self._prefix = f"kiln:{{{deployment}}}:"
        self._session_ttl_ms = session_ttl_ms or 0
        self._put = self._redis.register_script(_PUT)
        self._delete = self._redis.register_script(_DELETE)
        self._list_page = self._redis.register_script(_LIST_PAGE)

    def _failed(self, operation: str, key: str, e: Exception) -> StoreError:
        return StoreError("backend", f"Redis failed to {operation} {key!r}: {e}. Check that Redis is running and reachable")

    def _ttl_ms(self, key: str) -> int:
        if _is_live_session(key):
            return self._session_ttl_ms
        if key.startswith(_OAUTH_RECORDS):
            return _OAUTH_RECORD_TTL_MS
        return 0

    @staticmethod
    def _mode(expected: Expected) -> Tuple[str, str]:
        if isinstance(expected, int) and not isinstance(expected, bool):
            return "matches", str(expected)
        return expected, ""

    def get(self, key: str) -> Optional[Tuple[bytes, int]]:
        validate_key(key)
        try:
            value, version = self._redis.hmget(self._prefix + "k:" + key, ["v", "n"])
        except Exception as e:  # redis-py's errors, whatever the transport
            raise self._failed("read", key, e) from e
        if value is None and version is None:
            return None
        try:
            return bytes(value), int(version)
        except (TypeError, ValueError):
            raise StoreError("backend", f"{self._prefix}k:{key} is not a Kiln entry (a hash with fields v and n)") from None

    def put(self, key: str, value: bytes, expected: Expected) -> int:
        validate_key(key)
        mode, version = self._mode(expected)
        try:
            n = self._put(
                keys=[self._prefix + "k:" + key, self._prefix + "index", self._prefix + "seq"],
                args=[mode, version, bytes(value), key, self._ttl_ms(key)],
            )
        except Exception as e:
            raise self._failed("write", key, e) from e
        if n < 0:
            raise StoreError("conflict")
        return int(n)

    def delete(self, key: str, expected: Expected) -> bool:
        validate_key(key)
        mode, version = self._mode(expected)
        try:
            n = self._delete(keys=[self._prefix + "k:" + key, self._prefix + "index"], args=[mode, version, key])
        except Exception as e:
            raise self._failed("delete", key, e) from e
        if n < 0:
            raise StoreError("conflict")
        return n == 1

    def list(self, prefix: str) -> list[str]:
        lo = b"-" if not prefix else b"[" + prefix.encode()
        hi = b"+" if not prefix else b"(" + prefix.encode() + b"\xff"
        keys: list[str] = []
        while True:
            try:
                scanned, last, live = self._list_page(
                    keys=[self._prefix + "index"], args=[lo, hi, _LIST_PAGE_SIZE, self._prefix + "k:"]
                )
            except Exception as e:
                raise self._failed("list", prefix, e) from e
            keys.extend(k.decode() if isinstance(k, bytes) else k for k in live)
            if scanned < _LIST_PAGE_SIZE:
                return keys
            lo = b"(" + (last if isinstance(last, bytes) else last.encode())
