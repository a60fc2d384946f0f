"""How big is each tool's result? Text and structured bytes per call, in a sandbox seeded at scale.

    python tools/measure_results.py           # the table
    python tools/measure_results.py --check   # exit 1 when a budget is exceeded
    python tools/measure_results.py --json    # the rows as JSON

The sandbox holds 1,000 users with nicknames, a 1,000-member group (10 admins, 200 muted, 100
blocked), an owner with 300 friends, 200 pending friend requests and 30 groups, and 100 messages in
one conversation. Each read tool is called with its default paging (no `limit`, no `page_size`), so
the table shows what a model gets when it does not ask for less. Bulk calls run at the sizes an admin
really sends: register 1,000 users, invite 10,000, push to 10,000.

Text is what a host without structured output shows the model; structured is the compact JSON of
`structuredContent`; a linked resource (the full per-item result of a bulk call) is read back and
reported apart, since the model only pays for it when it reads it. Budgets: ≤ 8 KB of text, and ≤ 8 KB
of structured content, for a default page and for a bulk summary (hosts pass either to the model).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanying_mcp.sandbox import Store  # noqa: E402
from tests.helpers import sandbox_client  # noqa: E402

TEXT_BUDGET = 8 * 1024
USERS, ADMINS, MUTED, BLOCKED, FRIENDS, REQUESTS, GROUPS, MESSAGES = 1000, 10, 200, 100, 300, 200, 30, 100
INVITED, APPLICANTS = 100, 200
BULK_INVITE, BULK_REGISTER, BULK_PUSH = 10_000, 1_000, 10_000


@dataclass
class Row:
    tool: str
    case: str
    text: int  # bytes of every text content item
    structured: int  # bytes of the compact structuredContent
    linked: int  # bytes of the resources the result links to (read back), 0 when none
    error: bool
    budget: int | None  # the budget its text and its structured content must each hold, None: only reported

    @property
    def over(self) -> bool:
        return self.budget is not None and (self.error or max(self.text, self.structured) > self.budget)


@dataclass
class World:
    owner: int
    users: list[int]
    group: int
    other: int  # the owner's chat partner (100 messages)
    bulk_group: int
    bulk_users: list[int]
    guests: list[int]  # not in the group: invited (and asked to confirm), or applying


def _bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def seed_store(store: Store) -> tuple[list[int], list[int], list[int]]:
    """Users straight into the store: seeding through the API would measure the seeding."""
    users = []
    for i in range(USERS):
        user = store.add_user(f"user{i:04d}", "pw")
        user.nick_name = f"用户{i:04d} Member"
        users.append(user.user_id)
    store.user(users[0]).settings["auth_mode"] = 1  # the owner approves friend requests: they stay pending
    bulk = [store.add_user(f"bulk{i:05d}", "pw").user_id for i in range(BULK_INVITE)]
    guests = []
    for i in range(INVITED + APPLICANTS):
        guest = store.add_user(f"guest{i:04d}", "pw")
        guest.settings["group_confirm"] = i < INVITED  # an invitation waits for their yes
        guests.append(guest.user_id)
    return users, bulk, guests


async def seed(client: Any, users: list[int], bulk: list[int], guests: list[int]) -> World:
    async def ok(tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await client.call_tool(tool, args)
        assert not result.is_error, f"seeding {tool} failed: {result.content[0].text[:300]}"
        return result.structured_content or {}

    owner, other, members = users[0], users[1], users[1:]
    group = (await ok("create_group", {"as_user_id": owner, "name": "全员群 All hands"}))["data"]["group_id"]
    for i in range(0, len(members), 500):
        await ok("invite_group_members", {"as_user_id": owner, "group_id": group, "user_ids": members[i : i + 500]})
    await ok("add_group_admins", {"as_user_id": owner, "group_id": group, "user_ids": members[:ADMINS]})
    await ok(
        "mute_group_members", {"as_user_id": owner, "group_id": group, "user_ids": members[-MUTED:], "duration": 60}
    )
    blocked = members[-MUTED - BLOCKED : -MUTED]
    await ok("block_group_members", {"as_user_id": owner, "group_id": group, "user_ids": blocked})
    await ok("add_friends", {"as_user_id": owner, "user_ids": members[:FRIENDS]})
    for applicant in members[FRIENDS : FRIENDS + REQUESTS]:
        await ok("send_friend_request", {"as_user_id": applicant, "user_id": owner, "reason": "你好, let's connect"})
    for g in range(GROUPS - 1):
        await ok("create_group", {"as_user_id": owner, "name": f"项目组 Project {g:02d}", "user_ids": members[:5]})
    for i in range(MESSAGES):
        text = f"第{i}条消息: status update number {i}, all systems nominal."
        await ok(
            "send_message",
            {"from_user_id": owner if i % 2 else other, "user_ids": [other if i % 2 else owner], "content": text},
        )
    for i in range(5):
        await ok(
            "create_group_announcement",
            {"as_user_id": owner, "group_id": group, "title": f"公告 {i}", "content": "请阅读 Please read." * 10},
        )
    await ok("invite_group_members", {"as_user_id": owner, "group_id": group, "user_ids": guests[:INVITED]})
    for applicant in guests[INVITED:]:
        await ok("apply_to_join_group", {"as_user_id": applicant, "group_id": group, "reason": "请让我加入 let me in"})
    bulk_group = (await ok("create_group", {"as_user_id": owner, "name": "bulk"}))["data"]["group_id"]
    return World(owner, users, group, other, bulk_group, bulk, guests)


# (tool, case, arguments, text budget or None)
Case = tuple[str, str, Callable[[World], dict[str, Any]], int | None]
CASES: list[Case] = [
    ("list_users", "default page of 1,000 users", lambda w: {}, TEXT_BUDGET),
    ("list_group_members", "default page of a 1,000-member group", lambda w: {"group_id": w.group}, TEXT_BUDGET),
    ("list_group_admins", f"{ADMINS} admins", lambda w: {"group_id": w.group}, TEXT_BUDGET),
    ("list_muted_group_members", f"default page of {MUTED} muted", lambda w: {"group_id": w.group}, TEXT_BUDGET),
    ("list_group_blocked_users", f"default page of {BLOCKED} blocked", lambda w: {"group_id": w.group}, TEXT_BUDGET),
    ("list_group_invitations", f"default page of {INVITED}", lambda w: {"as_group_id": w.group}, TEXT_BUDGET),
    (
        "list_group_applications",
        f"default page of {APPLICANTS}",
        lambda w: {"as_user_id": w.owner, "group_ids": [w.group]},
        TEXT_BUDGET,
    ),
    ("list_friends", f"{FRIENDS} friends", lambda w: {"as_user_id": w.owner}, None),
    ("list_friend_ids", f"default page of {FRIENDS} friends", lambda w: {"as_user_id": w.owner}, TEXT_BUDGET),
    ("list_friend_requests", f"default page of {REQUESTS}", lambda w: {"as_user_id": w.owner}, TEXT_BUDGET),
    ("list_user_groups", f"owner of {GROUPS} groups", lambda w: {"as_user_id": w.owner}, None),
    (
        "list_conversation_messages",
        f"default page of {MESSAGES} messages",
        lambda w: {"as_user_id": w.owner, "opposite_id": w.other},
        TEXT_BUDGET,
    ),
    ("list_unread_conversations", "one partner", lambda w: {"as_user_id": w.other}, None),
    ("list_group_announcements", "5 announcements", lambda w: {"group_id": w.group}, None),
    ("get_group_info", "the 1,000-member group", lambda w: {"group_id": w.group}, None),
    ("get_user_profile", "one user", lambda w: {"as_user_id": w.owner}, None),
    ("get_user_settings", "one user", lambda w: {"as_user_id": w.owner}, None),
    (
        "register_users",
        f"register {BULK_REGISTER:,}",
        lambda w: {"users": [{"username": f"new{i:04d}", "password": "pw"} for i in range(BULK_REGISTER)]},
        TEXT_BUDGET,
    ),
    (
        "invite_group_members",
        f"invite {BULK_INVITE:,}",
        lambda w: {"as_user_id": w.owner, "group_id": w.bulk_group, "user_ids": w.bulk_users},
        TEXT_BUDGET,
    ),
    (
        "send_push",
        f"push to {BULK_PUSH:,} users",
        lambda w: {"user_ids": w.bulk_users[:BULK_PUSH], "message": {"body": "hi"}},
        TEXT_BUDGET,
    ),
]


async def _linked_bytes(client: Any, result: Any) -> int:
    total = 0
    for item in result.content:
        if getattr(item, "type", None) == "resource_link":
            read = await client.read_resource(item.uri)
            total += sum(len(getattr(c, "text", "").encode("utf-8")) for c in read.contents)
    return total


async def measure(lang: str = "en", only: set[str] | None = None) -> list[Row]:
    store = Store()
    users, bulk, guests = seed_store(store)
    rows: list[Row] = []
    async with sandbox_client(store, lang=lang) as client:
        world = await seed(client, users, bulk, guests)
        for tool, case, args, budget in CASES:
            if only and tool not in only:
                continue
            result = await client.call_tool(tool, args(world))
            text = sum(len(c.text.encode("utf-8")) for c in result.content if getattr(c, "type", None) == "text")
            structured = _bytes(result.structured_content) if result.structured_content is not None else 0
            linked = await _linked_bytes(client, result)
            rows.append(Row(tool, case, text, structured, linked, bool(result.is_error), budget))
    return rows


def table(rows: list[Row]) -> str:
    out = [
        "| tool | case | text | structured | linked | budget | ok |",
        "|---|---|--:|--:|--:|--:|:-:|",
    ]
    for r in rows:
        budget = f"≤ {r.budget // 1024} KB" if r.budget else ""
        ok = "ERROR" if r.error else ("over" if r.over else "yes" if r.budget else "")
        out.append(f"| {r.tool} | {r.case} | {r.text:,} | {r.structured:,} | {r.linked:,} | {budget} | {ok} |")
    return "\n".join(out)


def over_budget(rows: list[Row]) -> list[str]:
    return [
        f"{r.tool} ({r.case}): {r.text:,} bytes of text, {r.structured:,} structured, error={r.error}"
        for r in rows
        if r.over
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 when a result exceeds its budget")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.add_argument("--tool", action="append", help="only this tool (repeatable)")
    ns = p.parse_args(argv)
    logging.disable(logging.INFO)  # the HTTP client logs every request at INFO
    rows = anyio.run(measure, ns.lang, set(ns.tool) if ns.tool else None)
    if ns.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
    else:
        print(table(rows))
    problems = over_budget(rows)
    for problem in problems:
        print(f"over budget: {problem}", file=sys.stderr)
    return 1 if ns.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
