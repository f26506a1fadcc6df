"""Where the PostgreSQL tests get their server (``tests/conftest_pg.py``): the
variable when set (and a loud failure when it points nowhere), else the machine's
server, else a throwaway one -- never a silent skip."""

from __future__ import annotations

import pytest
from conftest_pg import DEFAULT_URL, ENV, resolve_server


def started() -> tuple[str, object]:
    return "postgresql://postgres@/postgres?host=/tmp/x", "stop"


def refuse_start() -> tuple[str, object]:
    raise RuntimeError("no PostgreSQL server for the tests: ... 'pgserver' ... not installed")


def test_variable_wins_when_it_answers() -> None:
    url = "postgresql://admin:pw@db:5433/x"
    assert resolve_server({ENV: url}, lambda u: None, refuse_start) == (url, None, ENV)


def test_variable_that_points_nowhere_fails_loudly() -> None:
    with pytest.raises(RuntimeError, match=ENV):
        resolve_server({ENV: "postgresql://db:1/x"}, lambda u: "refused", started)


def test_machine_server_then_throwaway() -> None:
    assert resolve_server({}, lambda u: None, refuse_start)[:2] == (DEFAULT_URL, None)
    probed: list[str] = []
    url, stop, origin = resolve_server({}, lambda u: probed.append(u) or "refused", started)
    assert probed == [DEFAULT_URL] and stop == "stop" and origin == "throwaway pgserver"
    assert resolve_server({ENV: "throwaway"}, lambda u: None, started)[1] == "stop"


def test_no_server_and_no_pgserver_is_an_error_not_a_skip() -> None:
    with pytest.raises(RuntimeError, match="pgserver"):
        resolve_server({}, lambda u: "refused", refuse_start)


def test_this_session_has_a_server(pg_server) -> None:
    assert pg_server.origin in (ENV, "127.0.0.1:5432", "throwaway pgserver")
