"""Paging is declared, not guessed: every listing says how it pages, and its summary line reads only that."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from lanying_mcp.core.spec import Operation, Pages
from lanying_mcp.engine.call import success
from lanying_mcp.engine.discovery import build
from lanying_mcp.engine.paging import page_line
from lanying_mcp.toolsets import CATALOGUE
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS

OPS: list[Operation] = [*CATALOGUE.values(), *LOCAL_OPERATIONS, *build(dict, lambda name: None)]


def _list_fields(result: typing.Any) -> set[str]:
    if isinstance(result, type) and issubclass(result, BaseModel):
        return {
            name
            for name, field in result.model_fields.items()
            if any(typing.get_origin(a) is list for a in (field.annotation, *typing.get_args(field.annotation)))
        }
    return set()


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_list_result_declares_its_paging(op):
    if typing.get_origin(op.result) is list:
        assert op.paging is not None, f"{op.name} answers a list: declare paging= (UNPAGED when it is whole)"
        assert op.paging.items is None, "the list is data itself"
    params = set(op.params.model_fields)
    if "page_num" in params or "cursor" in op.extras or "msg_id_start" in params:
        assert op.paging is not None and op.paging.style is not Pages.WHOLE, f"{op.name} pages: say how"


@pytest.mark.parametrize("op", [op for op in OPS if op.paging is not None], ids=lambda op: op.name)
def test_a_paging_declaration_names_real_arguments_and_result_keys(op):
    p, params = op.paging, set(op.params.model_fields)
    if p.items is not None:
        assert p.items in _list_fields(op.result), f"{op.name}: data.{p.items} is not a list of its result"
    if p.total is not None:
        assert p.total in op.extras
    if p.style is Pages.WHOLE:
        assert (p.arg, p.size, p.next, p.last) == (None, None, None, None)
    elif p.style is Pages.NUMBER:
        assert p.arg in params and p.size in params and p.next is None
    elif p.style is Pages.CURSOR:
        assert p.arg in params and p.next in op.extras and p.size is None
    else:
        assert p.style is Pages.WINDOW and p.items is not None and p.arg in params
        assert isinstance(op.result, type) and issubclass(op.result, BaseModel)
        assert p.next in op.result.model_fields and (p.last is None or p.last in op.result.model_fields)


def _line(tool: str, structured: dict, args: dict | None = None, lang: str = "en") -> str | None:
    op = CATALOGUE[tool]
    params = op.params.model_validate(args) if args is not None else None
    return page_line(op.paging, structured, params, lang)


MEMBERS = {"group_id": 5}
CASES = [  # (tool, structured, arguments, english line, chinese line): the texts the inferred lines had
    ("list_user_groups", {"data": [{}, {}]}, {"as_user_id": 1}, "2 items.", "本页2项。"),
    ("list_user_groups", {"data": [{}]}, {"as_user_id": 1}, "1 item.", "本页1项。"),
    (
        "list_users",
        {"data": [{}] * 50},
        {"page_num": 3},
        "50 items. Next page: page_num=4.",
        "本页50项。下一页:page_num=4。",
    ),
    ("list_users", {"data": [{}] * 50}, {}, "50 items. Next page: page_num=2.", "本页50项。下一页:page_num=2。"),
    ("list_users", {"data": [{}] * 7}, {}, "7 items. Last page.", "本页7项。已是最后一页。"),
    ("list_users", {"data": []}, {"page_size": 10}, "0 items. Last page.", "本页0项。已是最后一页。"),
    (
        "list_group_members",
        {"data": [{}], "cursor": "40", "total": 90},
        MEMBERS,
        '1 item of 90. Next page: cursor="40".',
        '本页1项(共90)。下一页:cursor="40"。',
    ),
    ("list_group_members", {"data": [], "cursor": ""}, MEMBERS, "0 items. Last page.", "本页0项。已是最后一页。"),
    ("list_group_members", {"data": [{}, {}]}, MEMBERS, "2 items.", "本页2项。"),
    (
        "list_friend_ids",
        {"data": [1, 2], "cursor": 7},
        {"as_user_id": 1},
        "2 items. Next page: cursor=7.",
        "本页2项。下一页:cursor=7。",
    ),
    (
        "list_conversation_messages",
        {"data": {"messages": [{"msg_id": 9}], "next_msg_id": 8, "is_last": False}},
        None,
        "1 message. Next page: msg_id_start=8.",
        "本页1条消息。下一页:msg_id_start=8。",
    ),
    (
        "list_conversation_messages",
        {"data": {"messages": [{}, {}], "next_msg_id": 8, "is_last": True}},
        None,
        "2 messages. Last page.",
        "本页2条消息。已是最后一页。",
    ),
    (
        "list_conversation_messages",
        {"data": {"messages": []}},
        None,
        "0 messages. Last page.",
        "本页0条消息。已是最后一页。",
    ),
    # a chatbot's replies come whole: counted, with no "last page" (no page ever follows them)
    ("send_ai_message", {"data": {"messages": [{}, {}]}}, None, "2 messages.", "本页2条消息。"),
    ("get_group_info", {"data": {"group_id": 1, "name": "群"}}, None, None, None),
    ("list_user_groups", {"raw_data": [1], "warnings": ["off shape"]}, None, None, None),
]


@pytest.mark.parametrize(("tool", "structured", "args", "en", "zh"), CASES)
def test_each_paging_style_says_its_line(tool, structured, args, en, zh):
    assert _line(tool, structured, args) == en
    assert _line(tool, structured, args, "zh") == zh


def test_an_undeclared_result_gets_no_line_whatever_its_keys():
    page = {"data": {"messages": [{"msg_id": 9}], "next_msg_id": 8}, "cursor": "x", "total": 3}
    assert page_line(None, page, None, "en") is None
    assert success({"data": [1, 2], "cursor": "x"}).text == '{"data":[1,2],"cursor":"x"}'
