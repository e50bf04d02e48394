"""A Python service and the kiln binary on the same Redis: the same sessions, both ways."""

import json
import subprocess

from conftest import needed
from kiln_engine import Caller, Engine, RedisStore, TenantStore

LOCAL = Caller("local", "local")  # the kiln CLI's caller (tenant and user "local")
REQUEST = "Every weekday at 9, summarise my unread Gmail and post it to Slack #team"


def kiln(*args, stdin=""):
    out = subprocess.run(
        [needed("KILN_BIN"), "--store", needed("KILN_TEST_REDIS_URL"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def engine():
    # The local tenant's view: the store root minus kiln-host/, as the kiln binary scopes it.
    return Engine(TenantStore(RedisStore(needed("KILN_TEST_REDIS_URL"))))


def test_a_session_started_by_kiln_continues_in_python_and_back():
    lines = kiln("chat", "--json", stdin=REQUEST + "\n").strip().splitlines()
    first = json.loads(lines[-1])
    sid = first["session_id"]
    assert first["phase"] == "OAUTH_FLOW"

    e = engine()
    view = e.get_session(LOCAL, sid)
    assert view["phase"] == "oauth-flow" and view["turn"] == 1
    chunks = e.turn(LOCAL, sid, {"oauth": {"state": view["pending_oauth"]["state"], "approved": True}})
    assert chunks[-1]["done"]
    after = e.get_session(LOCAL, sid)
    assert after["turn"] == 2 and "gmail" in after["connected"]

    shown = json.loads(kiln("--json", "sessions", "show", sid))
    assert shown["turn"] == 2 and "gmail" in shown["connected"]
    kiln("chat", "--json", "--session", sid, stdin="London time\n")
    assert e.get_session(LOCAL, sid)["turn"] == 3


def test_a_session_started_in_python_is_kilns_too():
    e = engine()
    sid = e.start_session(LOCAL)["session_id"]
    e.turn(LOCAL, sid, REQUEST)
    shown = json.loads(kiln("--json", "sessions", "show", sid))
    assert shown["phase"] == "OAUTH_FLOW" and shown["turn"] == 1
    listed = kiln("--json", "sessions", "list")
    assert sid in listed
    queued = e.queue.add("from python", metadata={"by": "pytest"})
    assert queued["conversation_id"] in kiln("--json", "conversations", "list")
