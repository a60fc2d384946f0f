"""Fuzz every tool through a real MCP client: arguments built from each tool's own input schema.

For every operation in the catalogue (plus the local ones), hypothesis draws arguments that fit the
advertised schema and arguments that break it: wrong types, missing required fields, extra keys,
huge strings and lists, odd unicode, negative and oversized IDs, deeply nested values, nulls. Each
goes through the MCP client into our server and on to a sandbox whose admin token is a canary.

Whatever comes in, the answer must be a tool result: success, or the structured error. Never a
protocol error, never an uncaught exception inside the server (`internal_error`), never a hang, and
never the admin token in anything the client sees.

The strategy builder is ours rather than hypothesis-jsonschema: the schemas use a small subset of
JSON Schema (type, properties, required, items, enum, min/max, lengths), and invalid inputs need
targeted mutations that a valid-only generator would not make.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from lanying_mcp.core.schema import input_schema
from lanying_mcp.core.spec import Operation
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS
from tests.helpers import sandbox_settings, say_yes
from tests.reliability.conftest import REPORT

CANARY = "canary-admin-token-5b9e1c7d"
OPERATIONS: list[Operation] = [*CATALOGUE.values(), *LOCAL_OPERATIONS]
SCHEMAS = {op.name: input_schema(op.params) for op in OPERATIONS}

# Per tool: examples of valid and of invalid arguments. 139 tools × 2 × 7 ≈ 1,950 calls, about 30 s.
EXAMPLES = 7
CALL_TIMEOUT = 15.0

# IDs the seeded sandbox knows, so that valid-looking calls reach real handlers, not just "no such user".
KNOWN: list[int] = []

# Text with the characters that break naive code: NUL, RTL marks, zero-width joiners, emoji, CJK.
ODD_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\nb", "\u202eevil", "\u200d\u200d", "😀" * 50, "蓝莺IM", "' OR 1=1 --", "${jndi:x}", "%s%n"]
)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
BAD_INTS = st.sampled_from([-1, 0, -(2**63), 2**63, 2**64 + 1, 10**30])


def valid(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that fit `schema` (the subset of JSON Schema our tools use)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([valid(s) for s in schema.get("anyOf", schema.get("oneOf", []))])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([valid({**schema, "type": k}) for k in kind])
    if kind == "integer":
        lo, hi = schema.get("minimum"), schema.get("maximum")
        ints = st.integers(min_value=lo, max_value=hi)
        fitting = [k for k in KNOWN if (lo is None or k >= lo) and (hi is None or k <= hi)]
        return st.one_of(st.sampled_from(fitting), ints) if fitting else ints
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "string":
        lo = schema.get("minLength", 0)
        hi = max(lo, min(schema.get("maxLength", 40), 40))
        return st.text(st.characters(exclude_categories=("Cs",)), min_size=lo, max_size=hi)
    if kind == "array":
        lo = schema.get("minItems", 0)
        hi = max(lo, min(schema.get("maxItems", 4), 4))
        return st.lists(valid(schema.get("items", {})), min_size=lo, max_size=hi)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if not props:
            return st.dictionaries(TEXT, JSON_VALUE, max_size=3)
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: valid(v) for k, v in props.items() if k in required},
            optional={k: valid(v) for k, v in props.items() if k not in required},
        )
    return JSON_VALUE


def wrong_type(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of some other JSON type than `schema` asks for."""
    kind = schema.get("type")
    options = {
        "integer": st.one_of(st.integers(), st.just("12")),
        "string": TEXT,
        "boolean": st.booleans(),
        "array": st.lists(st.integers(), max_size=2),
        "object": st.dictionaries(TEXT, st.integers(), max_size=2),
        "number": st.floats(allow_nan=False),
    }
    others = [s for k, s in options.items() if k != kind and not (kind == "number" and k == "integer")]
    return st.one_of(st.none(), *others)


def nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


MUTATIONS = (
    "wrong_type",
    "drop_required",
    "extra_key",
    "huge_string",
    "huge_list",
    "bad_id",
    "odd_text",
    "deep",
    "null",
    "empty",
)


@st.composite
def invalid(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    """Schema-valid arguments with one targeted mutation (which may, by chance, still be valid)."""
    args = dict(draw(valid(schema)))
    props: dict[str, Any] = schema.get("properties", {})
    names = sorted(props)
    of_type = {t: [n for n in names if props[n].get("type") == t] for t in ("integer", "string", "array")}
    how = draw(st.sampled_from(MUTATIONS))
    if how == "drop_required" and schema.get("required"):
        args.pop(draw(st.sampled_from(sorted(schema["required"]))), None)
    elif how == "extra_key":
        key = draw(TEXT.filter(lambda k: k not in props))
        args[key] = draw(JSON_VALUE)
    elif how == "huge_string" and names:
        key = draw(st.sampled_from(of_type["string"] or names))
        args[key] = draw(st.sampled_from(["x", "蓝", "😀"])) * draw(st.sampled_from([5_000, 100_000]))
    elif how == "huge_list" and names:
        key = draw(st.sampled_from(of_type["array"] or names))
        args[key] = list(range(1, 1 + draw(st.sampled_from([501, 2_000]))))
    elif how == "bad_id" and names:
        args[draw(st.sampled_from(of_type["integer"] or names))] = draw(BAD_INTS)
    elif how == "odd_text" and names:
        args[draw(st.sampled_from(of_type["string"] or names))] = draw(ODD_TEXT)
    elif how == "deep" and names:
        args[draw(st.sampled_from(names))] = nested(draw(st.sampled_from([20, 200])))
    elif how == "null" and names:
        args[draw(st.sampled_from(names))] = None
    elif how == "empty":
        args = {}
    elif names:  # wrong_type, and the fallback when a mutation had nothing to act on
        key = draw(st.sampled_from(names))
        args[key] = draw(wrong_type(props[key]))
    else:
        args[draw(TEXT.filter(bool))] = draw(JSON_VALUE)
    return args


class Session:
    """One MCP client on one seeded sandbox, driven from hypothesis' synchronous tests via a portal."""

    def __init__(self, portal: BlockingPortal, client: Client, store: Store) -> None:
        self.portal = portal
        self.client = client
        self.store = store
        self.counts = {"inputs": 0, "valid": 0, "invalid": 0, "ok": 0, "errors": 0, "tools": set()}

    async def _call(self, tool: str, args: dict[str, Any]) -> Any:
        with anyio.fail_after(CALL_TIMEOUT):
            return await self.client.call_tool(tool, args)

    def call(self, tool: str, args: dict[str, Any], kind: str) -> None:
        """One fuzz input; fails the test on anything but a clean tool result."""
        label = f"{tool}({_short(args)})"
        try:
            result = self.portal.call(self._call, tool, args)
        except TimeoutError:
            pytest.fail(f"{label}: no answer within {CALL_TIMEOUT} s")
        except Exception as exc:  # a protocol error, or the session died
            pytest.fail(f"{label}: call_tool raised {type(exc).__name__}: {exc}")
        self.counts["inputs"] += 1
        self.counts[kind] += 1
        self.counts["tools"].add(tool)
        seen = json.dumps(result.structured_content, ensure_ascii=False) + "".join(
            getattr(c, "text", "") for c in result.content
        )
        assert CANARY not in seen, f"{label}: the admin token appears in the result"
        assert result.structured_content is not None, f"{label}: no structured content"
        if result.is_error:
            self.counts["errors"] += 1
            err = result.structured_content.get("error")
            assert isinstance(err, dict) and {"code", "message", "meaning", "hint", "retryable"} <= set(err), (
                f"{label}: malformed error {result.structured_content}"
            )
            assert err["code"] != "internal_error", f"{label}: the server crashed inside: {err}"
        else:
            self.counts["ok"] += 1


def _short(args: Any) -> str:
    text = json.dumps(args, ensure_ascii=False, default=str)
    return text if len(text) < 300 else text[:300] + f"… ({len(text)} chars)"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    store = Store(admin_token=CANARY)
    store._ids = itertools.count(2_199_040_000_000)  # the same IDs every run, so examples replay exactly
    uploads = tmp_path_factory.mktemp("uploads")  # upload_knowledge_document may only read files here
    server = build_server(
        sandbox_settings(store, upload_roots=(str(uploads),)), transport=httpx2.ASGITransport(app=build_app(store))
    )
    with start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(Client(server, mode="legacy", elicitation_callback=say_yes)) as client:
            s = Session(portal, client, store)
            for name in ("fuzz_alice", "fuzz_bob"):
                result = portal.call(client.call_tool, "register_user", {"username": name, "password": "pw"})
                KNOWN.append(result.structured_content["data"]["user_id"])
            result = portal.call(
                client.call_tool, "create_group", {"as_user_id": KNOWN[0], "name": "fuzz", "user_ids": [KNOWN[1]]}
            )
            KNOWN.append(result.structured_content["data"]["group_id"])
            yield s
            # still alive after everything
            alive = portal.call(client.call_tool, "list_users", {})
            assert not alive.is_error
            REPORT["fuzz"] = s.counts
        portal.call(server.lanying_client.aclose)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
@FUZZ
@given(data=st.data())
def test_fuzz_tool(session: Session, tool: str, data: st.DataObject) -> None:
    schema = SCHEMAS[tool]
    session.call(tool, data.draw(valid(schema), label="valid"), "valid")
    session.call(tool, data.draw(invalid(schema), label="invalid"), "invalid")


def test_fuzz_covered_every_tool(session: Session) -> None:
    """Runs last in this module: every tool got inputs, and the counts add up."""
    if not session.counts["inputs"]:
        pytest.skip("only meaningful after the fuzz tests of this module ran")
    missing = set(SCHEMAS) - session.counts["tools"]
    assert not missing, f"tools never fuzzed: {sorted(missing)}"
    assert session.counts["inputs"] >= 2 * len(SCHEMAS)
