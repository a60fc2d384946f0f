"""Results sized for a model: default pages and bulk summaries stay within 8 KB of text and 8 KB of
structured content, in both languages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

from lanying_mcp.engine.call import success
from lanying_mcp.toolsets import CATALOGUE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from measure_results import TEXT_BUDGET, measure, over_budget  # noqa: E402


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_pages_and_bulk_summaries_hold_the_text_budget(lang):
    rows = anyio.run(measure, lang)
    assert over_budget(rows) == []
    by_tool = {r.tool: r for r in rows}
    # 10,000 invitations, summarised: beyond the capacity of 2,000 they fail (20010), their IDs listed
    # by reason up to the budget
    assert by_tool["invite_group_members"].text <= TEXT_BUDGET
    assert by_tool["register_users"].text <= TEXT_BUDGET
    for row in rows:  # compact: the text is the structured JSON and one line, never an indented copy
        assert row.text < row.structured + 400, row
    budgeted = [row for row in rows if row.budget is not None]
    assert len(budgeted) >= 13
    for row in budgeted:  # hosts pass either the text or the structured content to the model
        assert row.text <= TEXT_BUDGET and row.structured <= TEXT_BUDGET, row
    # list_users rows carry the usernames: its names map adds only nicknames, not a second copy
    assert by_tool["list_users"].structured < 6000


def test_text_is_one_line_then_compact_json_with_readable_chinese():
    structured = {"data": [{"user_id": 1, "nick_name": "小明"}], "cursor": "40", "total": 90}
    op = CATALOGUE["list_group_members"]
    params = op.params.model_validate({"group_id": 5})
    outcome = success(structured, params=params, paging=op.paging)
    line, body = outcome.text.split("\n")
    assert line == '1 item of 90. Next page: cursor="40".'
    assert json.loads(body) == structured and "小明" in body and "\n" not in body and ", " not in body
    zh = success({"data": [], "cursor": ""}, params=params, lang="zh", paging=op.paging).text.split("\n")[0]
    assert zh == "本页0项。已是最后一页。"


def test_page_numbered_lists_name_the_next_page_number():
    op = CATALOGUE["list_users"]
    full = success({"data": [{}] * 50}, params=op.params.model_validate({"page_num": 3}), paging=op.paging).text.split(
        "\n"
    )[0]
    assert full == "50 items. Next page: page_num=4."
    short = success({"data": [{}] * 7}, params=op.params.model_validate({}), paging=op.paging).text.split("\n")[0]
    assert short == "7 items. Last page."


def test_message_history_names_the_next_start():
    paging = CATALOGUE["list_conversation_messages"].paging
    page = {"data": {"messages": [{"msg_id": 9}], "next_msg_id": 8, "is_last": False}}
    assert success(page, paging=paging).text.split("\n")[0] == "1 message. Next page: msg_id_start=8."
    last = success({"data": {"messages": [], "is_last": True}}, paging=paging).text.split("\n")[0]
    assert last == "0 messages. Last page."


def test_a_single_object_result_is_just_compact_json():
    assert success({"data": {"group_id": 1, "name": "群"}}).text == '{"data":{"group_id":1,"name":"群"}}'
