"""Cost of names beside IDs: `list_group_members`, a page of 100, with names off, on (cold), on (warm).

Prints the mean time per call and the API calls per call, against the in-process sandbox. The sandbox
answers in about a millisecond, so the cold ratio here overstates what a real network shows: there the
extra lookups (names, owner, admins) run at once and add about one round trip.

    .venv/bin/python tools/measure_names.py [calls] [latency_ms]

`latency_ms` delays every sandbox answer, to see the ratios a network round trip gives.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import anyio
import httpx2

from lanying_mcp import names
from lanying_mcp.client import LanyingClient
from lanying_mcp.dispatch import CallContext, execute
from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.settings import Settings
from lanying_mcp.toolsets import CATALOGUE


async def main(calls: int, latency: float) -> None:
    store = Store()
    seen: list[str] = []
    app = build_app(store)

    async def counting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
            if latency:
                await anyio.sleep(latency / 1000)
        await app(scope, receive, send)

    settings = Settings(endpoint="http://sandbox.test", app_id=SANDBOX_APP_ID, access_token=store.admin_token)
    client = LanyingClient(settings, transport=httpx2.ASGITransport(app=counting))
    on = CallContext(client, catalogue=CATALOGUE)
    off = CallContext(client.with_settings(settings.with_(names=False)), catalogue=CATALOGUE)
    users = [{"username": f"member_{i}", "password": "pw123456"} for i in range(100)]
    ids = [u["user_id"] for u in (await execute(CATALOGUE["register_users"], {"users": users}, on)).structured["data"]]
    for i, uid in enumerate(ids):
        store.users[uid].nick_name = f"Member {i}"
    created = await execute(CATALOGUE["create_group"], {"as_user_id": ids[0], "name": "Bench", "user_ids": ids[1:]}, on)
    group_id = created.structured["data"]["group_id"]
    await execute(CATALOGUE["add_group_admins"], {"group_id": group_id, "user_ids": ids[1:4]}, on)
    op, args = CATALOGUE["list_group_members"], {"group_id": group_id, "limit": 100}

    async def run(ctx: CallContext, cold: bool) -> tuple[float, float]:
        total = 0.0
        seen.clear()
        for _ in range(calls):
            if cold:
                names.CACHE.clear()
            started = time.perf_counter()
            outcome = await execute(op, args, ctx)
            total += time.perf_counter() - started
            assert outcome.ok, outcome.text
        return total / calls * 1000, len(seen) / calls

    async with client:
        results = {}
        for label, ctx, cold in (
            ("names off", off, False),
            ("names on, cold", on, True),
            ("names on, warm", on, False),
        ):
            await run(ctx, cold)  # warm-up
            results[label] = await run(ctx, cold)
    base = results["names off"][0]
    for label, (ms, api_calls) in results.items():
        print(f"{label:16} {ms:6.2f} ms/call  {ms / base:4.2f}x  {api_calls:.0f} API call(s) per call")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 200, float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
