"""search_tools finds the tool an admin means, in English or Chinese, within its first three results.

The query set (tests/data/search_queries.json) is written in an admin's words and never names a tool.
Its `heldout` part (`first_seen` "heldout-9": 324 queries, 50% Chinese, every searchable tool including the
meta tools) was written by someone who never saw the ranking, the indexed words or the other queries, was
never used to tune, and was measured once, after the round of tuning: recall@3 97.5% (316/324).
`python tools/search_recall.py --cv` prints the figures and every miss.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import gen_search_keywords  # noqa: E402
from search_recall import TARGETS, cross_validate, evaluate, judge, queries, searchable  # noqa: E402

import lanying_mcp.engine.discovery as discovery  # noqa: E402
from lanying_mcp.engine.discovery import search  # noqa: E402
from lanying_mcp.toolsets import CATALOGUE  # noqa: E402

OPS = searchable()


def ranking(query: str) -> list[str]:
    return [op.name for op in search(OPS, query, 8)]


def held_out() -> list[dict]:
    """The held-out queries (a round that moves them into the tuned part adds a fresh set before it measures)."""
    held = [q for q in queries() if q["split"] == "heldout"]
    assert held, "no held-out queries: add a fresh held-out set (split 'heldout') before measuring"
    return held


def test_the_query_set_is_bilingual_large_and_names_no_tool():
    qs = queries()
    assert len(qs) >= 200
    langs = [q["lang"] for q in qs]
    assert 0.4 <= langs.count("zh") / len(qs) <= 0.6
    assert {q["split"] for q in qs} <= {"tune", "heldout"}
    searchable_names = {op.name for op in OPS}  # the catalogue's tools and the meta tools search finds
    names = {n for n in {*CATALOGUE, *searchable_names} if "_" in n}
    for q in qs:
        assert not any(name in q["query"] for name in names), q["query"]
        assert all(t in searchable_names for t in q["expect"]), q


def test_the_held_out_part_is_large_and_bilingual():
    held = held_out()
    assert len(held) >= 250 and len(held) / len(queries()) >= 0.15
    assert 0.4 <= sum(q["lang"] == "zh" for q in held) / len(held) <= 0.6


def test_recall_on_the_tuned_part():
    recall, misses = evaluate("tune", OPS)
    assert recall >= TARGETS["tune"], f"tune recall {recall:.1%}: " + "; ".join(
        f"{m.query!r} → {m.got}" for m in misses
    )
    assert TARGETS == {"tune": 0.98, "heldout": 0.95}


def test_the_held_out_part_asks_for_every_tool_and_repeats_no_tuned_query():
    held = held_out()
    assert {t for q in held for t in q["expect"]} >= {op.name for op in OPS}
    tuned = {q["query"].lower() for q in queries() if q["split"] == "tune"}
    assert not {q["query"].lower() for q in held} & tuned
    assert not any("_" in q["query"] for q in held)  # no tool or argument name


def test_recall_on_the_held_out_part_meets_its_target():
    held_out()
    recall, misses = evaluate("heldout", OPS)
    # Held-out recall@3 as measured once, after this round of tuning: 97.5% (316/324).
    assert recall >= TARGETS["heldout"], f"heldout recall {recall:.1%}: " + "; ".join(
        f"{m.query!r} → {m.got}" for m in misses
    )


def test_held_out_recall_does_not_fall_below_what_was_measured():
    recall, _ = evaluate("heldout", OPS)
    assert recall >= 0.96  # 97.5% when measured, less a margin


def test_cross_validated_recall_on_the_tuned_part():
    """Each fifth of the tuned part, measured with its own queries left out of the indexed examples."""
    assert cross_validate(OPS) >= 0.97  # 98.3% when measured, with the previous held-out part in the tuned part


def test_the_indexed_words_are_current_and_hold_no_held_out_query():
    path = gen_search_keywords.OUT
    assert path.read_text(encoding="utf-8") == gen_search_keywords.render(), "run python tools/gen_search_keywords.py"
    indexed = {t for entry in json.loads(path.read_text(encoding="utf-8")).values() for t in entry.get("examples", [])}
    held = {q["query"] for q in queries() if q["split"] == "heldout"}
    assert indexed and not indexed & held
    assert all(t in {q["query"] for q in queries() if q["split"] == "tune"} for t in indexed)


def test_the_server_reads_no_vendored_reference_at_run_time():
    package = Path(__file__).resolve().parents[1] / "lanying_mcp"
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "upstream/" not in text and "api-docs" not in text, source


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("编辑群公告", "create_group_announcement"),  # the API reference's name for publishing an announcement
        ("从禁言列表移除用户", "unmute_group_members"),
    ],
)
def test_the_api_references_own_words_find_the_tool(query, expect):
    assert expect in ranking(query)[:3], ranking(query)[:3]


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("read group message history and recall a message", "list_conversation_messages"),
        ("make member group admin", "add_group_admins"),
        ("rename group", "set_group_name"),
        ("remove member from group", "kick_group_members"),
        ("禁言 群成员", "mute_group_members"),
        ("踢出群成员", "kick_group_members"),
        ("移除群成员", "kick_group_members"),
        ("解散群", "destroy_group"),
        ("删除群", "destroy_group"),
        ("dissolve a group", "destroy_group"),
        ("delete the group", "destroy_group"),
        ("withdraw a message", "recall_message"),
        ("撤回消息", "recall_message"),
        ("throw someone out of the group", "kick_group_members"),
        ("change the name of the group", "set_group_name"),
    ],
)
def test_the_reported_searches_and_the_verbs_that_mean_the_same(query, expect):
    got = ranking(query)
    assert expect in got[:3], got[:3]


def test_the_reported_orderings():
    assert ranking("rename group")[0] == "set_group_name"
    got = ranking("rename group")
    assert got.index("set_group_name") < got.index("rename_group_file")
    assert ranking("remove member from group")[0] == "kick_group_members"
    assert "delete_user" not in ranking("禁言 群成员")[:3]
    assert ranking("禁言 群成员")[0] == "mute_group_members"


def test_a_miss_is_reported_with_its_reason():
    q = {"query": "x", "expect": ["a"], "split": "tune", "first": True, "not_top3": ["c"]}
    assert judge(q, ["a", "b"]) is None
    assert judge(q, ["b", "a"]) == "expected tool is not first"
    assert judge(q, ["a", "c"]) == "c is in the top 3"
    assert judge(q, ["b", "c", "d", "a"]) == "expected tool not in the top 3"


def test_a_word_no_tool_uses_finds_the_indexed_words_of_its_family():
    index = discovery._index(OPS)
    assert discovery._kin(index, "transferral") == ("transfer",)
    assert discovery._kin(index, "downloadable") == ("download",)
    assert discovery._kin(index, "group") == ()  # an indexed word stands for itself
    assert ranking("group transferral")[0] == "transfer_group_owner"


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("write a group announcement", "create_group_announcement"),
        ("take down a group notice", "delete_group_announcement"),
        ("detach the huawei token from the user", "unbind_device_token"),
        ("notifications should not show the message text", "set_user_push_detail_hidden"),
        ("群资料", "get_group_info"),
        ("按标签推送", "send_push"),
    ],
)
def test_words_the_catalogue_says_otherwise(query, expect):
    assert expect in ranking(query)[:3], ranking(query)[:3]
