"""Shared by the reliability tests: a place to collect figures, and a summary printed at the end.

The fault matrix, the fuzz input count and the load figures are numbers a reviewer wants to see
after a CI run without digging through captured output, so they go to pytest's terminal summary.
"""

from __future__ import annotations

from typing import Any

# Filled by the tests: "faults" -> {(fault, when): {tool: cell}}, "fuzz" -> counts, "load" -> figures.
REPORT: dict[str, Any] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    faults = REPORT.get("faults")
    if faults:
        tools = list(dict.fromkeys(tool for cells in faults.values() for tool in cells))
        terminalreporter.write_sep("-", "fault matrix (fault/when × tool)")
        terminalreporter.write_line("| fault | when | " + " | ".join(tools) + " |")
        terminalreporter.write_line("|---|---|" + "---|" * len(tools))
        for (fault, when), cells in faults.items():
            row = " | ".join(cells.get(t, "") for t in tools)
            terminalreporter.write_line(f"| {fault} | {when} | {row} |")
        terminalreporter.write_line(
            "ok / E <code>: outcome; R: retryable; M: hint warns the change may have been applied; "
            "×n: requests that reached the API; +n: writes applied"
        )
    fuzz = REPORT.get("fuzz")
    if fuzz:
        terminalreporter.write_sep("-", "fuzz")
        terminalreporter.write_line(
            f"{fuzz['inputs']} inputs over {len(fuzz['tools'])} tools "
            f"({fuzz['valid']} schema-valid, {fuzz['invalid']} invalid); "
            f"{fuzz['ok']} succeeded, {fuzz['errors']} structured errors"
        )
    load = REPORT.get("load")
    if load:
        terminalreporter.write_sep("-", "load")
        for key, value in load.items():
            terminalreporter.write_line(f"{key}: {value}")
