"""The tools/list size budgets (discovery ≤ 4 KB, default ≤ 28 KB, all ≤ 700 core bytes per tool)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from measure_tools import BUDGETS, measure_one, over_budget  # noqa: E402


def test_listing_budgets_hold_in_both_languages():
    rows = [measure_one(selection, lang) for selection in BUDGETS for lang in ("en", "zh")]
    assert over_budget(rows) == []
    by = {(r.selection, r.lang): r for r in rows}
    # search_tools, get_tool_schema, call_tool, and await_approval (the approval page may be the channel)
    assert by[("discovery", "en")].tools == 4
    assert by[("all", "en")].tools > 130


def test_the_budgets_are_the_agreed_numbers():
    assert BUDGETS == {"discovery": ("total", 4096), "default": ("total", 28672), "all": ("core_avg", 700)}
