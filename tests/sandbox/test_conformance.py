"""The docs conformance table: every documented operation, driven from the documentation alone.

For each operation of the vendored Swagger (and the two legacy paths of the quick guide):

- `success`: a call with the documented required parameters succeeds, and its `data` and the
  envelope's extra fields (cursor, total, version, msg_ids) carry only the field names the response
  definition declares, with its JSON types;
- the error codes the documentation ties to it: the header codes of the quick guide's error table
  (40000, 10003, 10008), 10002 for a missing required parameter, 20001 for a group that does not
  exist wherever a `group_id` is documented, and the operation-specific codes of the table below;
- its documented limits (Swagger maximum, minimum, pattern): a value beyond one is refused with 10002.

Run `pytest tests/sandbox/test_conformance.py -q` to see its size (one row per case).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from lanying_mcp.sandbox import Store
from tests.sandbox.swagger import definition, error_table, limited_parameters, operations, resolve
from tests.sandbox.world import World, build, client_for

# Callable with app_id alone: registration and the log-in operations (the quick guide's register
# example sends no access-token; a client logs in to get one).
OPEN = {"/user/register/v2", "/token/user", "/token/id", "/token/login"}
LEGACY = [("POST", "/user/add_roster", {}), ("GET", "/user/rosters", {})]  # quick guide only

# --- argument values by documented name -------------------------------------------------------
# Each value names the world's object the documentation means by that parameter; a few depend on
# the path (whose friend request, whose invitation).

PER_PATH: dict[tuple[str, str], Callable[[World], Any]] = {
    ("/roster/accept", "user_id"): lambda w: w.applicant,
    ("/roster/decline", "user_id"): lambda w: w.applicant,
    ("/group/apply/handle", "user_id"): lambda w: w.applicant,
    ("/group/invite/handle", "user_id"): lambda w: w.owner,
    ("/roster/apply", "user_id"): lambda w: w.stranger,
    ("/roster/apply/batch", "user_id"): lambda w: w.stranger,
    ("/roster/delete", "user_id"): lambda w: w.member,
    ("/token/id", "user_id"): lambda w: w.owner,
    ("/user/settings", "user_id"): lambda w: w.owner,
    ("/roster/may_message", "user_id"): lambda w: w.owner,
    ("/group/invite", "user_list"): lambda w: [w.stranger],
    ("/group/admin/remove", "user_list"): lambda w: [w.admin],
    ("/token/user", "name"): lambda w: "owner",
    ("/roster/name", "username"): lambda w: "member",
    ("/user/username", "username"): lambda w: "renamed",
    ("/user/register/v2", "username"): lambda w: "newbie",
    ("/user/register/push", "username"): lambda w: "newbie",
    ("/user/authmode", "value"): lambda w: 0,
    ("/user/push/nickname", "value"): lambda w: "nick",
    ("/file/download/avatar", "object_name"): lambda w: w.file_key,
    ("/user/register/batch", "list"): lambda w: [{"username": "newbie", "password": "pw"}],
    ("/user/avatar/batch", "list"): lambda w: [{"user_id": w.member, "avatar": "http://x/a.png"}],
    ("/user/profile/batch", "list"): lambda w: [{"user_id": w.member, "nick_name": "n"}],
    ("/push/task/detail", "list"): lambda w: [w.task],
    ("/group/file/delete", "file_list"): lambda w: [w.group_file],
}
BY_NAME: dict[str, Callable[[World], Any]] = {
    "group_id": lambda w: w.group,
    "user_id": lambda w: w.member,
    "roster_id": lambda w: w.member,
    "user_list": lambda w: [w.member],
    "list": lambda w: [w.member],
    "group_list": lambda w: [w.group],
    "targets": lambda w: [w.member],
    "type": lambda w: 1,
    "content": lambda w: "hi",
    "content_type": lambda w: 0,
    "msg_id": lambda w: w.msg,
    "conversation_id": lambda w: w.member,
    "opposite_id": lambda w: w.member,
    "msg_id_start": lambda w: 0,
    "limit": lambda w: 10,
    "announcement_id": lambda w: w.announcement,
    "file_id": lambda w: w.group_file,
    "file_list": lambda w: [w.group_file],
    "name": lambda w: "name",
    "size": lambda w: 1,
    "url": lambda w: "http://x/f.txt",
    "title": lambda w: "t",
    "duration": lambda w: 10,
    "approval": lambda w: True,
    "apply_approval": lambda w: 1,
    "msg_mute_mode": lambda w: 1,
    "msg_push_mode": lambda w: 1,
    "new_owner": lambda w: w.member,
    "qr_info": lambda w: w.qr,
    "password": lambda w: "pw",
    "new_password": lambda w: "pw2",
    "old_password": lambda w: "pw",
    "login_name": lambda w: "owner",
    "avatar": lambda w: "http://x/a.png",
    "alias": lambda w: "al",
    "badge": lambda w: 1,
    "tags": lambda w: ["t"],
    "username": lambda w: "member",
    "device_sn": lambda w: w.device_sn,
    "deviceSn": lambda w: w.device_sn,
    "device_token": lambda w: "dt",
    "notifier_name": lambda w: "apns",
    "file_type": lambda w: 100,
    "to_id": lambda w: w.member,
    "file_sign": lambda w: w.file_key,
    "provider": lambda w: 1,
    "mobile": lambda w: "13800000000",
    "nick_name": lambda w: "nick",
    "no_push_start_hour": lambda w: 22,
    "no_push_end_hour": lambda w: 7,
}
# Bodies the documentation gives by example rather than by required fields.
BODIES: dict[str, Callable[[World], Any]] = {
    "/group/create": lambda w: {"name": "g2"},
    "/push/notify": lambda w: {"audience": {"user_id": [w.member]}, "message": {"title": "t", "body": "b"}},
    "/user/profile": lambda w: {"nick_name": "n"},
    "/user/delete": lambda w: {},
    "/user/add_roster": lambda w: {"list": [w.stranger]},
}
# Who calls: the admin token acting as the owner, except where the operation is about someone else.
ACTOR: dict[str, Callable[[World], int]] = {
    "/group/invite/handle": lambda w: w.invitee,
    "/group/qrcode/invite": lambda w: w.stranger,
    "/group/apply": lambda w: w.stranger,
    "/group/leave": lambda w: w.member,
    "/roster/apply": lambda w: w.member,
    "/roster/apply/batch": lambda w: w.member,
}


BY_TYPE = {"boolean": True, "string": "v", "integer": 0}


def _value(w: World, path: str, name: str, kind: str | None = None) -> Any:
    if (path, name) in PER_PATH:
        return PER_PATH[(path, name)](w)
    if name in BY_NAME:
        return BY_NAME[name](w)
    if name == "value" and kind in BY_TYPE:  # the one-setting endpoints: a value of the documented type
        return BY_TYPE[kind]
    raise KeyError(f"no value for documented parameter {name!r} of {path}")


def _body_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    return next((p["schema"] for p in op.get("parameters", []) if p["in"] == "body"), None)


def request_for(w: World, method: str, path: str, op: dict[str, Any]) -> dict[str, Any]:
    """httpx request arguments carrying the documented required parameters."""
    query = {
        p["name"]: _value(w, path, p["name"], p.get("type"))
        for p in op.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    kw: dict[str, Any] = {"params": query}
    schema = _body_schema(op)
    if path in BODIES:
        kw["json"] = BODIES[path](w)
    elif schema is not None:
        if schema.get("type") == "string":
            kw["content"] = b"some info"
        elif schema.get("type") == "array":
            item = resolve(schema["items"])
            kw["json"] = [{n: _value(w, path, n) for n in item.get("required", [])}]
        else:
            body = resolve(schema)
            required = body.get("required") or list(body.get("properties", {}))
            props = body.get("properties", {})
            kw["json"] = {n: _value(w, path, n, props.get(n, {}).get("type")) for n in required}
    return kw


# --- comparing a success answer with the response definition ------------------------------------
JSON_TYPES = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def shape_problems(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    if value is None:
        return []  # an absent optional value
    if "$ref" in schema:
        schema = definition(schema["$ref"])
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind is None or (kind == "object" and not schema.get("properties") and "additionalProperties" not in schema):
        return []  # untyped: the generic `Response` wrapper's `data: object` is Java's Object, any JSON
    ok = JSON_TYPES[kind]
    if not isinstance(value, ok) or (kind in ("integer", "number") and isinstance(value, bool)):
        return [f"{where}: {type(value).__name__} where the docs say {kind}"]
    problems = []
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value[:3]):
            problems += shape_problems(item, schema["items"], f"{where}[{i}]")
    if kind == "object" and schema.get("properties"):
        props = schema["properties"]
        for key, item in value.items():
            if key not in props:
                problems.append(f"{where}.{key}: not in the response definition")
            else:
                problems += shape_problems(item, props[key], f"{where}.{key}")
    return problems


def response_definition(op: dict[str, Any]) -> dict[str, Any] | None:
    schema = op.get("responses", {}).get("200", {}).get("schema")
    return resolve(schema) if schema else None


# --- the table ------------------------------------------------------------------------------------
Check = Callable[[World], Awaitable[None]]
ROWS: list[tuple[str, Check]] = []


def row(name: str) -> Callable[[Check], Check]:
    def add(fn: Check) -> Check:
        ROWS.append((name, fn))
        return fn

    return add


def actor(w: World, path: str) -> int:
    return ACTOR[path](w) if path in ACTOR else w.owner


async def answer(w: World, method: str, path: str, kw: dict[str, Any], **how: Any) -> dict[str, Any]:
    res = await w.call(method, path, **{"act": actor(w, path), **how}, **kw)
    if res.status_code == 302:
        return {"code": 200, "redirect": res.headers["location"]}
    assert res.status_code == 200, f"HTTP {res.status_code}: {res.text[:200]}"
    body = res.json()
    if body.get("code") == 10010 and "act" not in how:  # an app-wide operation: the admin token alone
        body = (await w.call(method, path, act=None, **kw)).json()
    return body


def success_row(method: str, path: str, op: dict[str, Any]) -> None:
    @row(f"{method} {path} success")
    async def check(w: World) -> None:
        body = await answer(w, method, path, request_for(w, method, path, op))
        assert body["code"] == 200, body
        if "redirect" in body:
            return
        definition_ = response_definition(op)
        if definition_ is None:
            return
        props = definition_.get("properties", {})
        problems = shape_problems(body.get("data"), props.get("data", {}), "data")
        for key in set(body) - {"code", "message", "data"}:
            if key not in props:
                problems.append(f"envelope field {key!r} is not in the response definition")
            else:
                problems += shape_problems(body[key], props[key], key)
        assert not problems, problems


def header_rows(method: str, path: str, op: dict[str, Any]) -> None:
    @row(f"{method} {path} 40000 unknown app_id")
    async def bad_app(w: World) -> None:
        body = await answer(w, method, path, request_for(w, method, path, op), app_id="no-such-app")
        assert body["code"] == 40000

    if path in OPEN:
        return

    @row(f"{method} {path} 10003 no access-token")
    async def no_token(w: World) -> None:
        body = await answer(w, method, path, request_for(w, method, path, op), token="", act=None)
        assert body["code"] == 10003

    @row(f"{method} {path} 10008 invalid access-token")
    async def bad_token(w: World) -> None:
        body = await answer(w, method, path, request_for(w, method, path, op), token="not-a-token", act=None)
        assert body["code"] == 10008


def missing_row(method: str, path: str, op: dict[str, Any]) -> None:
    """10002 for the first documented required parameter left out."""
    query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")]
    schema = _body_schema(op)
    body_required = resolve(schema).get("required", []) if schema and schema.get("type") is None else []
    if path in BODIES or not (query or body_required):
        return
    name = query[0] if query else body_required[0]

    @row(f"{method} {path} 10002 without {name}")
    async def check(w: World) -> None:
        kw = request_for(w, method, path, op)
        (kw["params"] if query else kw["json"]).pop(name)
        assert (await answer(w, method, path, kw))["code"] == 10002


def group_row(method: str, path: str, op: dict[str, Any]) -> None:
    kw_probe = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    schema = _body_schema(op)
    in_body = bool(schema) and schema.get("type") is None and "group_id" in resolve(schema).get("required", [])
    if "group_id" not in kw_probe and not in_body:
        return

    @row(f"{method} {path} 20001 unknown group")
    async def check(w: World) -> None:
        kw = request_for(w, method, path, op)
        (kw["json"] if in_body else kw["params"])["group_id"] = 1
        assert (await answer(w, method, path, kw))["code"] == 20001


def limit_rows(method: str, path: str, op: dict[str, Any]) -> None:
    for where, name, limits in limited_parameters(op):
        for kind, bound in limits.items():
            bad = {"maximum": lambda b: int(b) + 1, "minimum": lambda b: int(b) - 1}.get(kind)
            value: Any = bad(bound) if bad else "!!not-matching!!"
            if kind == "pattern" and name == "username":
                value = "maxim_user"  # the quick guide's rule: not starting with maxim or mta
            if kind == "maxLength":
                value = "x" * (int(bound) + 1)

            @row(f"{method} {path} 10002 {name} {kind} {bound}")
            async def check(w: World, where: str = where, name: str = name, value: Any = value) -> None:
                kw = request_for(w, method, path, op)
                if where == "body":
                    kw["json"][name] = value
                else:
                    kw["params"][name] = value
                assert (await answer(w, method, path, kw))["code"] == 10002


# Operation-specific codes: each quick-guide error whose description names what the operation does.
async def _kicked_thrice(w: World) -> None:
    from lanying_mcp.sandbox.groups import KICK_LIMIT

    for _ in range(KICK_LIMIT):
        await w.ok("POST", "/group/invite", act=w.owner, json={"group_id": w.group, "user_list": [w.stranger]})
        await w.ok("POST", "/group/kick", act=w.owner, json={"group_id": w.group, "user_list": [w.stranger]})


async def _full(w: World) -> None:
    w.store.part(__import__("lanying_mcp.sandbox.groups", fromlist=["Groups"]).Groups).groups[w.group].capacity = 3


SPECIFIC: list[
    tuple[str, str, int, Callable[[World], Awaitable[Any]] | None, Callable[[World], dict[str, Any]], int | None]
] = [
    # (method, path, code, setup, request, actor)
    ("POST", "/user/register/v2", 10004, None, lambda w: {"json": {"username": "owner", "password": "pw"}}, None),
    ("POST", "/roster/apply", 10005, None, lambda w: {"json": {"user_id": w.owner}}, "member"),
    (
        "POST",
        "/roster/apply",
        10006,
        lambda w: w.ok("POST", "/roster/block", act=w.stranger, params={"user_id": w.member}),
        lambda w: {"json": {"user_id": w.stranger}},
        "member",
    ),
    (
        "POST",
        "/message/send",
        10006,
        lambda w: w.ok("POST", "/roster/block", act=w.member, params={"user_id": w.owner}),
        lambda w: {"json": {"type": 1, "content": "x", "content_type": 0, "targets": [w.member]}},
        "owner",
    ),
    ("POST", "/roster/accept", 10007, None, lambda w: {"params": {"user_id": w.stranger}}, "owner"),
    (
        "POST",
        "/roster/apply",
        10012,
        lambda w: w.ok("POST", "/user/settings", act=w.stranger, json={"user_id": w.stranger, "auth_mode": 3}),
        lambda w: {"json": {"user_id": w.stranger}},
        "member",
    ),
    (
        "POST",
        "/push/notify",
        12005,
        None,
        lambda w: {"json": {"audience": {"user_id": list(range(1, 502))}, "message": {"body": "b"}}},
        None,
    ),
    (
        "POST",
        "/group/msg/push_mode",
        20003,
        None,
        lambda w: {"json": {"group_id": w.group, "msg_push_mode": 9}},
        "member",
    ),
    ("POST", "/group/leave", 20004, None, lambda w: {"params": {"group_id": w.group}}, "owner"),
    (
        "POST",
        "/group/transfer",
        20005,
        None,
        lambda w: {"json": {"group_id": w.group, "new_owner": w.stranger}},
        "owner",
    ),
    (
        "POST",
        "/group/invite",
        20010,
        _full,
        lambda w: {"json": {"group_id": w.group, "user_list": [w.stranger]}},
        "owner",
    ),
    ("POST", "/group/apply", 20010, lambda w: _open_and_full(w), lambda w: {"json": {"group_id": w.group}}, "stranger"),
    (
        "POST",
        "/group/settings/allow_member_invitation",
        20012,
        None,
        lambda w: {"json": {"group_id": w.group, "value": False}},
        "member",
    ),
    ("POST", "/group/transfer", 20013, None, lambda w: {"json": {"group_id": w.group, "new_owner": w.member}}, "admin"),
    (
        "POST",
        "/group/apply/handle",
        20014,
        None,
        lambda w: {"json": {"group_id": w.group, "user_id": w.stranger, "approval": True}},
        "owner",
    ),
    (
        "POST",
        "/group/invite/handle",
        20015,
        None,
        lambda w: {"json": {"group_id": w.group, "user_id": w.admin, "approval": True}},
        "invitee",
    ),
    ("POST", "/group/apply", 20016, _kicked_thrice, lambda w: {"json": {"group_id": w.group}}, "stranger"),
    (
        "POST",
        "/group/invite",
        20016,
        _kicked_thrice,
        lambda w: {"json": {"group_id": w.group, "user_list": [w.stranger]}},
        "owner",
    ),
    ("POST", "/group/apply", 20017, None, lambda w: {"json": {"group_id": w.group}}, "member"),
    (
        "POST",
        "/group/apply",
        20018,
        lambda w: w.ok("POST", "/group/block", act=w.owner, json={"group_id": w.group, "user_list": [w.stranger]}),
        lambda w: {"json": {"group_id": w.group}},
        "stranger",
    ),
    (
        "GET",
        "/group/announcement",
        20020,
        None,
        lambda w: {"params": {"group_id": w.group, "announcement_id": 1}},
        "member",
    ),
    ("GET", "/group/file", 20022, None, lambda w: {"params": {"group_id": w.group, "file_id": 1}}, "member"),
    (
        "POST",
        "/group/file/delete",
        20023,
        None,
        lambda w: {"json": {"group_id": w.group, "file_list": [w.group_file]}},
        "member",
    ),
    ("POST", "/group/qrcode/invite", 20024, None, lambda w: {"json": {"qr_info": "bogus"}}, "stranger"),
    ("GET", "/roster/id", 10000, None, lambda w: {"params": {"user_id": 1}}, "owner"),
    ("POST", "/token/id", 10000, None, lambda w: {"json": {"user_id": 1, "password": "pw"}}, None),
    (
        "GET",
        "/message/conversation",
        20001,
        lambda w: w.ok("POST", "/group/destroy", act=w.owner, params={"group_id": w.group}),
        lambda w: {"params": {"opposite_id": w.group, "limit": 5, "msg_id_start": 0}},
        "member",
    ),
]


async def _open_and_full(w: World) -> None:
    await w.ok(
        "POST", "/group/settings/require_admin_approval", act=w.owner, json={"group_id": w.group, "apply_approval": 0}
    )
    await _full(w)


def specific_rows() -> None:
    for method, path, code, setup, request, who in SPECIFIC:
        assert code in error_table(), f"{code} is not in the quick guide's error table"

        @row(f"{method} {path} {code} {error_table()[code]}")
        async def check(w: World, method=method, path=path, code=code, setup=setup, request=request, who=who) -> None:  # noqa: ANN001
            if setup is not None:
                await setup(w)
            kw = {"params": {}, **request(w)}
            res = await w.call(method, path, act=getattr(w, who) if who else None, **kw)
            body = res.json()
            if isinstance(body.get("data"), list) and body["code"] == 200:  # per-user outcomes
                reasons = [str(r.get("reason") or "") for r in body["data"]]
                assert any(r.startswith(str(code)) for r in reasons), body
            else:
                assert body["code"] == code, body


for _method, _path, _op in operations():
    success_row(_method, _path, _op)
    header_rows(_method, _path, _op)
    missing_row(_method, _path, _op)
    group_row(_method, _path, _op)
    limit_rows(_method, _path, _op)
for _method, _path, _op in LEGACY:
    success_row(_method, _path, _op)
    header_rows(_method, _path, _op)
specific_rows()

OPERATIONS = len(operations()) + len(LEGACY)


@pytest.mark.anyio
@pytest.mark.parametrize("check", [fn for _, fn in ROWS], ids=[name for name, _ in ROWS])
async def test_conformance(check: Check) -> None:
    store = Store()
    async with client_for(store) as http:
        await check(await build(http, store))


def test_every_documented_operation_has_a_success_row() -> None:
    names = {name for name, _ in ROWS}
    missing = [f"{m} {p}" for m, p, _ in operations() if f"{m} {p} success" not in names]
    assert not missing and OPERATIONS == 196
