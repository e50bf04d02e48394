import os

import pytest


def needed(name: str) -> str:
    """An environment variable host/tests/plugin_hosts.rs sets; without it the test is
    skipped when run by hand, and fails under the harness (KILN_TEST_STRICT=1)."""
    value = os.environ.get(name)
    if not value:
        if os.environ.get("KILN_TEST_STRICT"):
            pytest.fail(f"{name} is not set (host/tests/plugin_hosts.rs sets it)")
        pytest.skip(f"{name} is not set: run through `cargo test -p kiln --test plugin_hosts`")
    return value
