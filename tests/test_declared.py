"""Declare, don't infer: what a question names is declared on each operation, and the generic modules read
only declarations, never an argument of the catalogue by its name."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

import lanying_mcp
from lanying_mcp.core.spec import Named, Operation
from lanying_mcp.engine.discovery import build
from lanying_mcp.toolsets import CATALOGUE
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS

OPS: list[Operation] = [*CATALOGUE.values(), *LOCAL_OPERATIONS, *build(dict, lambda name: None)]
PACKAGE = Path(lanying_mcp.__file__).parent

# The modules that run every operation alike: they may read an argument only through a declaration.
GENERIC = (
    "review/question.py",
    "engine/dispatch.py",
    "engine/checks.py",
    "engine/call.py",
    "engine/trail.py",
    "engine/paging.py",
)

# String constants of those modules that equal some argument's name but are not read as arguments.
ALLOWED: dict[str, dict[str, str]] = {
    "review/question.py": {
        "users": "the plural noun 'users' of the question's text table",
        "username": "a key of the names read for users (names.users)",
        "nick_name": "a key of the names read for users (names.users)",
        "name": "a key of the group and group-file reads' answers (roles.GROUP_INFO, roles.GROUP_FILE)",
        "group_id": "a key of the group read's answer (roles.GROUP_INFO)",
        "file_id": "a key of the group-file read's answer (roles.GROUP_FILE)",
        "title": "a key of the announcement read's answer (roles.ANNOUNCEMENT)",
        "msg_id": "a key of a message in the history read's answer (roles.MESSAGES)",
        "content": "a key of a message in the history read's answer (roles.MESSAGES)",
    },
    "engine/dispatch.py": {},
    "engine/checks.py": {},
    "engine/call.py": {
        "cursor": "an envelope field beside data (the result models' extras)",
        "version": "an envelope field beside data (the result models' extras)",
        "type": "a key of a validation error",
        "arguments": "a word of a validation error's location",
    },
    "engine/trail.py": {
        "kind": "a key of a journal entry's targets",
        "name": "a key of a journal entry's targets",
        "username": "a key of the names known for users (names.known)",
        "change_id": "a key of a write's result",
        "changes": "a key of a write's result",
        "code": "a key of a structured error",
        "message": "a key of a structured error",
    },
    "engine/paging.py": {},
}


def _argument_names() -> set[str]:
    """Every argument name of the catalogue: the params models' fields, nested models' included."""
    found: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            found.add(name)
            for arg in (field.annotation, *typing.get_args(field.annotation)):
                for inner in (arg, *typing.get_args(arg)):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        walk(inner)

    for op in OPS:
        walk(op.params)
    return found


ARGUMENTS = _argument_names()


@pytest.mark.parametrize("module", GENERIC)
def test_generic_modules_name_no_argument_of_the_catalogue(module):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    allowed = ALLOWED[module]
    found = sorted(
        {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ARGUMENTS
        }
        - set(allowed)
    )
    assert found == [], f"{module} names arguments {found}: declare them on the Operation and read the declaration"


@pytest.mark.parametrize("module", GENERIC)
def test_generic_modules_never_read_an_attribute_by_an_argument_name(module):
    """Even the allowed words are result keys only: never looked up on arguments (getattr, hasattr)."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
            name = node.args[1] if len(node.args) > 1 else None
            assert not (isinstance(name, ast.Constant) and name.value in ARGUMENTS), (module, node.lineno)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_what_a_question_names_is_an_argument_of_the_operation(op):
    fields = op.params.model_fields
    for entry in dataclasses.fields(Named):
        value = getattr(op.named, entry.name)
        for name in value if isinstance(value, tuple) else (value,):
            assert name is None or name in fields, f"{op.name}: Named.{entry.name}={name!r} is not an argument"
    assert not (op.named.account and op.named.acting), "the acting user is the account, or acts on something else"


# Arguments that name a target, and the entry that declares them: an operation that takes one declares it,
# so a question (and the change journal) names it. A name that is not a user's is not declared as one.
TARGETS = {
    "group_id": "group",
    "user_ids": "users",
    "group_ids": "groups",
    "user_id": "user",
    "new_owner": "new_owner",
    "msg_id": "message",
    "conversation_id": "conversation",
    "announcement_id": "announcement",
    "file_ids": "files",
    "device_sn": "device",
    "tags": "tags",
    "aliases": "aliases",
    "from_user_id": "sender",
}
NOT_A_USERNAME = {"create_group": "name", "add_group_file": "name", "rename_group_file": "name"}


@pytest.mark.parametrize("op", list(CATALOGUE.values()), ids=lambda op: op.name)
def test_every_target_argument_is_declared(op):
    fields = op.params.model_fields
    for arg, entry in TARGETS.items():
        if arg in fields:
            assert getattr(op.named, entry) == arg, f"{op.name} takes {arg}: declare named=Named({entry}={arg!r})"
    if "as_user_id" in fields:
        assert "as_user_id" in (op.named.account, op.named.acting), f"{op.name}: who is as_user_id?"
    for arg in ("name", "username", "login_name"):
        if arg in fields and NOT_A_USERNAME.get(op.name) != arg:
            assert arg in op.named.usernames, f"{op.name}: {arg} names a user"
    if op.audience is not None:
        if "content" in fields:
            assert op.named.content == "content"


def test_a_device_setting_names_the_account_not_an_acting_user():
    assert CATALOGUE["set_user_vibration"].named.account == "as_user_id"
    assert CATALOGUE["leave_group"].named.acting == "as_user_id"
    assert CATALOGUE["send_push"].named.push == "message"


def test_a_question_calls_a_user_name_a_user_and_a_group_name_nothing_of_the_kind():
    from lanying_mcp.review import question

    t = question._Text("en")

    def phrases(tool: str, args: dict) -> list[str]:
        op = CATALOGUE[tool]
        return question._phrases(op, op.params.model_validate(args), t, {}, [], [], [], None, args.get("as_user_id"))

    assert 'user "qa_test_7"' in phrases("set_username", {"as_user_id": 1, "username": "qa_test_7"})
    assert not any("Ops" in p for p in phrases("create_group", {"as_user_id": 1, "name": "Ops"}))
