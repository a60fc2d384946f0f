import pytest

from tests.redis_server import own_redis, redis_server  # noqa: F401 - a real Redis, for the shared state store


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=["legacy", "auto"])
def mode(request):
    """Both protocol eras: 2025-11-25 (legacy handshake) and 2026-07-28 (auto)."""
    return request.param


@pytest.fixture(autouse=True, scope="session")
def private_state_dir(tmp_path_factory):
    """State files (bulk result links) go to a folder of this test run, never the user's state directory.

    Servers started as subprocesses inherit the variable; platformdirs reads it on Linux."""
    import os

    folder = tmp_path_factory.mktemp("state")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old


@pytest.fixture(autouse=True)
def opened(monkeypatch):
    """No test opens a real browser: the approval page's opener records each address instead.

    A test reads the address (with its one-time secret) from this list, as a browser would get it."""
    from lanying_mcp.serving.server import LanyingServer

    seen: list[str] = []
    monkeypatch.setattr(LanyingServer, "open_url", staticmethod(seen.append))
    return seen


@pytest.fixture(autouse=True, scope="session")
def no_browser_in_subprocesses():
    """Servers started as subprocesses open the approval page with `webbrowser`, which honours $BROWSER:
    `true` opens nothing, so no test ever reaches a real browser, in this process or another."""
    import os

    old = os.environ.get("BROWSER")
    os.environ["BROWSER"] = "true"
    yield
    if old is None:
        os.environ.pop("BROWSER", None)
    else:
        os.environ["BROWSER"] = old
