"""Kiln's conversation engine (kiln.wasm) for Python, run by wasmtime.

The same component the ``kiln`` binary runs; see README.md for an example.
"""

from .engine import WIT_VERSION, Caller, Engine, KilnError, LlmError
from .stores import MemoryStore, RedisStore, StoreError, TenantStore, validate_key

__all__ = [
    "WIT_VERSION",
    "Caller",
    "Engine",
    "KilnError",
    "LlmError",
    "MemoryStore",
    "RedisStore",
    "StoreError",
    "TenantStore",
    "validate_key",
]
