"""One name for one thing: the same API field keeps one argument name across every tool.

A model that learned `username` from register_user must not meet `name` for the same field in
get_user_token, nor `nickname` where another tool says `nick_name`.
"""

from __future__ import annotations

from collections import defaultdict

from lanying_mcp.core.spec import In, Loc
from lanying_mcp.toolsets import CATALOGUE

# Wire names that are envelopes, not meanings: `{"list": [...]}` bodies and `?value=` setters (the
# argument name says what they carry: users, enabled, muted, ...), and `name`, which the API uses for
# a group's, a file's and (in /token/user) a user's name.
GENERIC_WIRE = {"list", "value", "name"}
# The argument name each concept has; the synonyms a tool must not use for it.
SYNONYMS = {
    "username": {"name", "user_name", "uname", "login"},
    "nick_name": {"nickname", "nick", "nickName"},
    "from_user_id": {"sender_id", "sender", "from_id", "from_uid"},
    "push_nick_name": {"push_nickname"},
}
SENDER_TOOLS = ("send_message", "send_system_notice", "send_ai_message")


def arguments() -> list[tuple[str, str, str, str]]:
    """(tool, argument, wire name, English description) for every non-header argument of every tool."""
    rows = []
    for op in CATALOGUE.values():
        for name, info in op.params.model_fields.items():
            loc = next((m for m in info.metadata if isinstance(m, Loc)), None)
            if loc is not None and loc.where is In.HEADER:
                continue
            rows.append((op.name, name, (loc.wire if loc and loc.wire else name), info.description or ""))
    return rows


def test_one_argument_name_per_wire_field():
    names: dict[str, set[str]] = defaultdict(set)
    for _, arg, wire, _ in arguments():
        if wire not in GENERIC_WIRE:
            names[wire].add(arg)
    clashes = {wire: sorted(args) for wire, args in names.items() if len(args) > 1}
    assert clashes == {}, f"one API field exposed under several argument names: {clashes}"


def test_no_synonym_for_a_named_concept():
    found = []
    for tool, arg, _, description in arguments():
        for concept, synonyms in SYNONYMS.items():
            if arg not in synonyms:
                continue
            # `name` is right for a group or file name; it is a synonym only where it means a username.
            if arg == "name" and "username" not in description.lower():
                continue
            found.append(f"{tool}.{arg} (say {concept})")
    assert found == [], found


def test_username_is_username_everywhere():
    # A field that holds a username and nothing else: its description starts so and offers no alternative.
    user_names = {
        (t, a) for t, a, _, d in arguments() if d.lower().startswith(("username", "exact username")) and " or " not in d
    }
    assert user_names and all(a == "username" for _, a in user_names), sorted(user_names)
    token = CATALOGUE["get_user_token"].params.model_fields["username"]
    assert Loc(In.BODY, "name") in token.metadata  # the wire keeps the API's own name


def test_the_two_sender_arguments_say_when_to_use_each():
    for tool in SENDER_TOOLS:
        fields = CATALOGUE[tool].params.model_fields
        assert "from_user_id" in fields and "as_user_id" in fields, tool
        sender, acting = fields["from_user_id"], fields["as_user_id"]
        assert "as_user_id" in (sender.description or "") and "from_user_id" in (acting.description or ""), tool
        for info, other in ((sender, "as_user_id"), (acting, "from_user_id")):
            zh = info.json_schema_extra["x-zh"] if isinstance(info.json_schema_extra, dict) else ""
            assert other in str(zh), tool
