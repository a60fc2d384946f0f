import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=["legacy", "auto"])
def mode(request):
    """Both protocol eras: 2025-11-25 (legacy handshake) and 2026-07-28 (auto)."""
    return request.param
