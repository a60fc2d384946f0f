"""A team shares one server: two replicas behind nginx, one Redis, admins signed in by a real OAuth server.

Every part is the one a team would run: Debian's nginx in front, Debian's redis-server as the shared
state store (`LANYING_STATE_URL`), panva's oidc-provider (npm, Node 22) issuing JWT access tokens with
this server's resource as their audience, and two `lanying-mcp serve --transport http` processes in
OAuth mode with the sandbox as their upstream. nginx listens on three loopback ports: one balances over
both replicas, the other two each reach one replica, so a case can say which replica serves which step.
All three send the same Host, so to a replica every request comes through the same front door.

The admins are clients of the provider (tests/e2e/oidc_server.py): Ada may read and write, Bob may only
read, Root holds the admin scope too, and Lim, a reader, is used up by the per-identity limit case.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, ElicitResult, InputRequiredResult

from tests.e2e.conftest import Api, free_port, stop, wait_port
from tests.e2e.nginx import nginx_binary, write_conf
from tests.e2e.oidc_server import (
    ADA,
    BOB,
    READ,
    ROOT,
    TEAM,
    Admin,
    AuthorizationServer,
    start_authorization_server,
)
from tests.helpers import say_yes
from tests.redis_server import RedisServer

LIM = Admin("admin-limit", READ, "lim@example.test", "Lim Counted")
ADMINS = (*TEAM, LIM)
STATE_KEY = "team-shared-request-state-key-0123456789abcdef"
CALLS_PER_MINUTE = 24  # low enough for the limit case to reach; no other admin comes near it
YES = ElicitResult(action="accept", content={"confirm": True})


def need_nginx() -> str:
    """nginx, installed when missing and possible; else skip, or fail in CI (`.ci/run` installs it)."""
    try:
        return nginx_binary()
    except pytest.skip.Exception as why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{why}; CI must install it (.ci/run)")
        raise


def team_nginx_conf(folder: Path, front: int, pins: list[int], replicas: list[int]) -> Path:
    """One balanced port over both replicas, and one port pinned to each; every port sends the front's Host."""
    balanced = "\n".join(f"    server 127.0.0.1:{p};" for p in replicas)
    pinned = "\n".join(f"  upstream replica{i} {{ server 127.0.0.1:{p}; }}" for i, p in enumerate(replicas, start=1))
    servers = "\n".join(
        f"""  server {{
    listen 127.0.0.1:{port};
    access_log {folder}/access.log up;
    location / {{
      proxy_pass http://{upstream};
      proxy_http_version 1.1;
      proxy_set_header Host 127.0.0.1:{front};
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 60s;
    }}
  }}"""
        for port, upstream in [(front, "replicas"), *((p, f"replica{i}") for i, p in enumerate(pins, start=1))]
    )
    body = f"""  upstream replicas {{
{balanced}
  }}
{pinned}
{servers}"""
    return write_conf(folder, "$server_port $upstream_addr $status", body)


@dataclass
class Team:
    resource: str  # the balanced front door's MCP URL: the audience of every token
    pinned: list[str]  # the MCP URL through nginx to replica 1, to replica 2
    auth: AuthorizationServer
    redis: RedisServer
    audit_logs: list[Path]
    folder: Path
    tokens: dict[str, str]

    def token(self, who: Admin) -> str:
        """One token per admin for the whole module, as a connector would keep it."""
        if who.client_id not in self.tokens:
            self.tokens[who.client_id] = self.auth.token(who)
        return self.tokens[who.client_id]

    def url(self, replica: int | None) -> str:
        return self.resource if replica is None else self.pinned[replica - 1]

    @contextlib.asynccontextmanager
    async def client(self, who: Admin, replica: int | None = None, human: Any = say_yes) -> AsyncIterator[Client]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {self.token(who)}"}, timeout=60)
        async with (
            http,
            Client(
                streamable_http_client(self.url(replica), http_client=http), mode="auto", elicitation_callback=human
            ) as client,
        ):
            yield client


def replica_env(api: Api, team_resource: str, issuer: str, redis_url: str, audit: Path) -> dict[str, str]:
    env = dict(api.env)
    env.update(
        {
            "LANYING_STATE_URL": redis_url,
            "LANYING_STATE_KEY": STATE_KEY,
            "LANYING_AUDIT_LOG": str(audit),
            "LANYING_CALLS_PER_MINUTE": str(CALLS_PER_MINUTE),
            "LANYING_OAUTH_ISSUER": issuer,
            "LANYING_OAUTH_AUDIENCE": team_resource,
        }
    )
    return env


@pytest.fixture(scope="module")
def team(sandbox_api: Api, tmp_path_factory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("team")
    nginx = need_nginx()
    front, pins, replicas = free_port(), [free_port(), free_port()], [free_port(), free_port()]
    resource = f"http://127.0.0.1:{front}/mcp"
    procs: list[subprocess.Popen[Any]] = []
    redis = RedisServer(folder / "redis").start()
    try:
        auth = start_authorization_server(folder / "oidc", resource, ADMINS)
    except BaseException:
        redis.stop()
        raise
    try:
        audit_logs = [folder / f"audit-{i}.jsonl" for i in (1, 2)]
        for port, audit in zip(replicas, audit_logs, strict=True):
            env = replica_env(sandbox_api, resource, auth.issuer, redis.url, audit)
            command = [sys.executable, "-m", "lanying_mcp", "serve", "--transport", "http", "--stateless"]
            with open(folder / f"replica-{port}.log", "w") as log:  # the child keeps its own handle
                procs.append(
                    subprocess.Popen(
                        [*command, "--port", str(port), "--allowed-hosts", f"127.0.0.1:{front}"],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
        for port, proc in zip(replicas, procs, strict=True):
            wait_port(port, proc, timeout=180)  # a hang guard: a loaded machine starts them slowly
        conf = team_nginx_conf(folder, front, pins, replicas)
        with open(folder / "nginx.out", "w") as log:
            procs.append(
                subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stdout=subprocess.DEVNULL, stderr=log)
            )
        for port in (front, *pins):
            wait_port(port, procs[-1])
        yield Team(resource, [f"http://127.0.0.1:{p}/mcp" for p in pins], auth, redis, audit_logs, folder, {})
    finally:
        for proc in reversed(procs):
            stop(proc)
        auth.stop()
        redis.stop()
    # nginx's own record: each pinned port reached only its replica, and the balanced one reached both.
    served: dict[int, set[str]] = {}
    for line in (folder / "access.log").read_text().splitlines():
        port, upstream, _status = line.split()
        served.setdefault(int(port), set()).add(upstream)
    for pin, replica in zip(pins, replicas, strict=True):
        assert served[pin] == {f"127.0.0.1:{replica}"}, served


async def ok(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, f"{tool} failed: {result.content[0].text if result.content else result}"
    assert result.structured_content is not None
    return result.structured_content


async def a_user(team: Team, name: str, nick: bool = True) -> int:
    """A user registered by Root through replica 1, with a nickname to go back to when `nick`."""
    async with team.client(ROOT, replica=1) as root:
        uid = (await ok(root, "register_user", {"username": name, "password": "pw-0123"}))["data"]["user_id"]
        if nick:
            await ok(root, "set_user_nickname", {"as_user_id": uid, "nick_name": f"{name} before"})
    return uid


def question_of(result: Any) -> str:
    """The text of the question an InputRequiredResult asks (or the result itself, to show in a failure)."""
    if not isinstance(result, InputRequiredResult):
        return repr(result)[:300]
    return " / ".join(getattr(r.params, "message", "") for r in result.input_requests.values())


async def nickname(client: Client, user_id: int) -> str | None:
    return (await ok(client, "get_user_profile", {"as_user_id": user_id}))["data"].get("nick_name")


# ------------------------------------------------------------------------------------------------ cases


@pytest.mark.anyio
async def test_scopes_decide_who_may_change_what_and_undo_works_on_the_other_replica(team: Team):
    uid = await a_user(team, "team_nick")
    # Ada (write) changes a nickname through replica 1.
    async with team.client(ADA, replica=1) as ada:
        before = await nickname(ada, uid)
        assert before == "team_nick before"
        change = await ok(ada, "set_user_nickname", {"as_user_id": uid, "nick_name": "Set by Ada"})
        assert await nickname(ada, uid) == "Set by Ada"
    change_id = change["change_id"]

    # Bob (read) cannot make it on either replica: a tool error naming the scope he lacks.
    for replica in (1, 2):
        async with team.client(BOB, replica=replica) as bob:
            listed = {tool.name for tool in (await bob.list_tools()).tools}
            assert "get_user_profile" in listed and "set_user_nickname" not in listed
            refused = await bob.call_tool("set_user_nickname", {"as_user_id": uid, "nick_name": "Set by Bob"})
            assert refused.is_error and refused.structured_content is not None
            error = refused.structured_content["error"]
            assert error["code"] == "insufficient_scope", error
            assert "lanying:write" in json.dumps(error), error
            assert await nickname(bob, uid) == "Set by Ada"

    # Ada undoes her change through replica 2: the journal is shared.
    async with team.client(ADA, replica=2) as ada:
        undone = await ok(ada, "undo_change", {"change_id": change_id})
        assert undone["undoes"] == change_id
        assert await nickname(ada, uid) == before

        # The journal names Ada for both entries, read through replica 2.
        page = await ok(ada, "list_changes", {"target": str(uid)})
        entries = {entry["id"]: entry for entry in page["data"]}
    assert {change_id, undone["change_id"]} <= set(entries)
    for entry in (entries[change_id], entries[undone["change_id"]]):
        assert ADA.client_id in json.dumps(entry["caller"], ensure_ascii=False), entry
        assert ROOT.client_id not in json.dumps(entry["caller"]) and BOB.client_id not in json.dumps(entry["caller"])

    # Each replica's audit log names who asked for what it served: on replica 1 Ada's change, on replica 2 her
    # undo (the inverse call), and on both Bob's refused try.
    logs = [[json.loads(line) for line in audit.read_text().splitlines() if line.strip()] for audit in team.audit_logs]

    def entries_setting(log: list[dict[str, Any]], value: str) -> list[dict[str, Any]]:
        return [e for e in log if e.get("tool") == "set_user_nickname" and e["arguments"].get("nick_name") == value]

    for log, (value, who) in zip(logs, (("Set by Ada", ADA), ("team_nick before", ADA)), strict=True):
        done = [e for e in entries_setting(log, value) if e["outcome"] not in ("intent", "error")]
        assert done, f"no applied set_user_nickname {value!r} in this replica's audit log"
        for entry in done:
            assert who.client_id in json.dumps(entry["caller"]) and who.email in json.dumps(entry), entry
    for log in logs:
        (tried,) = entries_setting(log, "Set by Bob")
        assert tried["outcome"] == "error" and tried.get("code") == "insufficient_scope", tried
        assert BOB.client_id in json.dumps(tried["caller"]), tried


@pytest.mark.anyio
async def test_a_bulk_result_link_made_on_one_replica_is_read_through_the_other(team: Team):
    users = [{"username": f"team_bulk_{i}", "password": "pw-0123"} for i in range(150)]
    async with team.client(ROOT, replica=1) as root:
        bulk = await root.call_tool("register_users", {"users": users})
        assert not bulk.is_error, bulk.content[0]
        link = next(str(c.uri) for c in bulk.content if c.type == "resource_link")
    async with team.client(ROOT, replica=2) as root:
        rows = json.loads((await root.read_resource(link)).contents[0].text)  # type: ignore[union-attr]
    assert len(rows["data"]) == 150
    # Another admin, on either replica, does not read Root's link.
    for replica in (1, 2):
        async with team.client(ADA, replica=replica) as ada:
            with pytest.raises(MCPError):
                await ada.read_resource(link)


@pytest.mark.anyio
async def test_a_yes_given_on_one_replica_is_used_once_across_both(team: Team):
    async with team.client(ROOT, replica=1) as root:
        # No nickname set: the question then has no rename note (tests/test_answer_rounds.py covers one).
        owner = await a_user(team, "team_owner", nick=False)
        gid = (await ok(root, "create_group", {"as_user_id": owner, "name": "team-doomed"}))["data"]["group_id"]
    args = {"as_user_id": owner, "group_id": gid}
    async with team.client(ROOT, replica=1) as one, team.client(ROOT, replica=2) as two:
        asked = await one.session.call_tool("destroy_group", args, allow_input_required=True)
        assert isinstance(asked, InputRequiredResult), asked
        answer = dict.fromkeys(asked.input_requests, YES)
        # The question asked on replica 1 is answered on replica 2: the nonce is in the shared store.
        done = await two.session.call_tool(
            "destroy_group", args, input_responses=answer, request_state=asked.request_state, allow_input_required=True
        )
        assert isinstance(done, CallToolResult) and not done.is_error, "asked again: " + question_of(done)[-250:]
        # The same answered round sent again, to replica 1 and to replica 2: the used nonce is refused on both.
        for client in (one, two):
            try:
                replay = await client.session.call_tool(
                    "destroy_group",
                    args,
                    input_responses=answer,
                    request_state=asked.request_state,
                    allow_input_required=True,
                )
            except MCPError:
                continue
            assert isinstance(replay, InputRequiredResult) or replay.is_error, replay
        entries = (await ok(one, "list_changes", {"tool": "destroy_group", "target": str(gid)}))["data"]
    assert [entry["outcome"] for entry in entries] == ["applied"]  # it ran once


@pytest.mark.anyio
async def test_the_per_identity_limit_holds_across_replicas(team: Team):
    # The limit counts in windows of a minute: start early in one, so the whole case stays inside it.
    if time.time() % 60 > 30:
        time.sleep(60 - time.time() % 60 + 0.5)
    served = {1: 0, 2: 0}
    refused: list[dict[str, Any]] = []
    async with team.client(LIM, replica=1) as one, team.client(LIM, replica=2) as two:
        for i in range(CALLS_PER_MINUTE + 4):
            replica = 1 + i % 2
            result = await (one if replica == 1 else two).call_tool("list_changes", {"limit": 1})
            if result.is_error:
                assert result.structured_content is not None
                refused.append(result.structured_content["error"])
            else:
                assert not refused, "a call went through after the limit was reached"
                served[replica] += 1
        # Other admins are not held back by Lim's count.
        async with team.client(BOB, replica=1) as bob:
            assert not (await bob.call_tool("list_changes", {"limit": 1})).is_error
    assert sum(served.values()) == CALLS_PER_MINUTE, served  # one count for both replicas, not one each
    assert served[1] and served[2]
    assert len(refused) == 4
    assert all(error["code"] == "rate_limited" and error.get("retry_after") for error in refused), refused


def test_the_front_door_sends_callers_to_the_authorization_server(team: Team):
    """What a connector sees before it has a token, through the balanced port: both replicas say the same."""
    for log in team.folder.glob("replica-*.log"):  # each replica said at start which mode it runs
        assert f"OAuth (issuer {team.auth.issuer}" in log.read_text(), log.read_text()[:500]
    metadata_url = f"{team.resource.removesuffix('/mcp')}/.well-known/oauth-protected-resource/mcp"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    for _ in range(4):  # nginx alternates: each replica answers at least once
        bare = httpx2.post(team.resource, json=body, timeout=30)
        assert bare.status_code == 401
        assert metadata_url in bare.headers["www-authenticate"]
    metadata = httpx2.get(metadata_url, timeout=30).json()
    assert metadata["resource"] == team.resource
    assert team.auth.issuer in [url.rstrip("/") for url in metadata["authorization_servers"]]
    # A real token without the read scope: the spec's 403 insufficient_scope challenge.
    write_only = team.auth.token(ROOT, scope="lanying:write")
    headers = {"Authorization": f"Bearer {write_only}", "Accept": "application/json, text/event-stream"}
    answer = httpx2.post(team.resource, json=body, headers=headers, timeout=30)
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]
    assert write_only not in answer.text


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text, 0 when absent."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.anyio
async def test_a_declined_confirmation_is_counted_by_the_replica_that_asked(team: Team):
    async def say_no(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="decline")

    headers = {"Authorization": f"Bearer {team.token(ROOT)}"}
    scrape = [f"{url.removesuffix('/mcp')}/metrics" for url in team.pinned]
    before = [metric(httpx2.get(u, headers=headers, timeout=30).text, "lanying_mcp_consent_total", event="declined")
              for u in scrape]  # fmt: skip
    owner = await a_user(team, "team_keeper", nick=False)
    async with team.client(ROOT, replica=2, human=say_no) as root:
        gid = (await ok(root, "create_group", {"as_user_id": owner, "name": "team-kept"}))["data"]["group_id"]
        refused = await root.call_tool("destroy_group", {"as_user_id": owner, "group_id": gid})
        assert refused.is_error and refused.structured_content is not None
        assert refused.structured_content["error"]["code"] == "declined"
        assert (await ok(root, "get_group_info", {"group_id": gid}))["data"]["group_id"] == gid  # still there
    after = [metric(httpx2.get(u, headers=headers, timeout=30).text, "lanying_mcp_consent_total", event="declined")
             for u in scrape]  # fmt: skip
    assert after[1] == before[1] + 1 and after[0] == before[0], (before, after)
    assert httpx2.get(scrape[0], timeout=30).status_code == 401  # behind the same OAuth as /mcp


@pytest.mark.anyio
async def test_without_redis_both_replicas_say_not_ready_writes_stop_and_reads_go_on(team: Team):
    """Last in this module: it stops the shared Redis, and starts it again on the same port."""
    headers = {"Authorization": f"Bearer {team.token(ADA)}"}
    ready = [f"{url.removesuffix('/mcp')}/readyz" for url in team.pinned]
    assert [httpx2.get(u, headers=headers, timeout=30).status_code for u in ready] == [200, 200]
    uid = await a_user(team, "team_outage")
    team.redis.stop()
    try:
        assert [httpx2.get(u, headers=headers, timeout=60).status_code for u in ready] == [503, 503]
        for replica in (1, 2):
            async with team.client(ADA, replica=replica) as ada:
                assert await nickname(ada, uid) == "team_outage before"  # reads go on
                write = await ada.call_tool("set_user_nickname", {"as_user_id": uid, "nick_name": "Not now"})
                assert write.is_error, "a write went through with its journal unreachable"
        async with team.client(ADA, replica=1) as ada:
            assert await nickname(ada, uid) == "team_outage before"
    finally:
        team.redis.start()
    assert [httpx2.get(u, headers=headers, timeout=30).status_code for u in ready] == [200, 200]
