"""Prometheus metrics of one server: tool calls, errors, latency, upstream status, consent.

Each server keeps its own `CollectorRegistry` (never the process-wide default), so two servers in one
process, as in tests, count apart. `prometheus-client` is imported only when metrics are on (HTTP with
`LANYING_METRICS` not `off`): a stdio server never pays for it.

What is counted, and where:

- `lanying_mcp_tool_calls_total{tool, outcome}` and `lanying_mcp_tool_call_seconds{tool}`: every tool
  call, at the server's `call_tool` (outcome `ok` or `error`; a name the server does not serve counts
  as `tool="unknown"`, so a caller cannot grow the label set). In the multi-round protocol a call that
  asks the human first answers `input_required` (counted so, without a duration), then ends in a later
  round that counts as `ok` or `error`;
- `lanying_mcp_tool_errors_total{code}`: the error code a failed call returned (`rate_limited`, `declined`,
  a Lanying code, `http_429`, …; an undocumented code counts as `other`), or `protocol_error` when the
  call was answered with a JSON-RPC error (an unknown tool);
- `lanying_mcp_upstream_responses_total{status}`: each HTTP answer of the Lanying API, by status;
- `lanying_mcp_consent_total{event}`: confirmations `asked`, `granted` and `declined` (a cancelled
  question counts as declined).

The call in progress carries its server's metrics in a context variable (`observing`), so the HTTP
client and the confirmation gate note what they see without knowing which server they serve.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

from ..core import error_text

CONSENT_EVENTS = ("asked", "granted", "declined")
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_HTTP_CODE = re.compile(r"http_\d{3}")

_CURRENT: contextvars.ContextVar[Metrics | None] = contextvars.ContextVar("lanying_metrics", default=None)


class Metrics:
    """The counters of one server, in a registry of its own."""

    def __init__(self, tools: frozenset[str]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.tools = tools
        self.registry = CollectorRegistry(auto_describe=True)
        self.calls = Counter(
            "lanying_mcp_tool_calls", "Tool calls, by tool and outcome (ok, error, input_required)", ["tool", "outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.errors = Counter(
            "lanying_mcp_tool_errors", "Failed tool calls, by the error code returned", ["code"], registry=self.registry
        )
        self.latency = Histogram(
            "lanying_mcp_tool_call_seconds", "Tool call duration in seconds, by tool", ["tool"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.upstream = Counter(
            "lanying_mcp_upstream_responses", "HTTP answers of the Lanying API, by status", ["status"],
            registry=self.registry,
        )  # fmt: skip
        self.consent = Counter(
            "lanying_mcp_consent", "Human confirmations asked, granted and declined", ["event"], registry=self.registry
        )
        for event in CONSENT_EVENTS:  # present at zero from the start, so a rate() has a baseline
            self.consent.labels(event)

    def tool_label(self, name: str) -> str:
        return name if name in self.tools else "unknown"

    def observe_call(self, name: str, seconds: float, error_code: Any) -> None:
        tool = self.tool_label(name)
        self.calls.labels(tool, "ok" if error_code is None else "error").inc()
        self.latency.labels(tool).observe(seconds)
        if error_code is not None:
            self.errors.labels(code_label(error_code)).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def code_label(code: Any) -> str:
    """An error code as a label: a catalogued code or an HTTP status class as is, anything else `other`."""
    text = str(code)
    if code in error_text.catalogue() or _HTTP_CODE.fullmatch(text) or code == "protocol_error":
        return text
    return "other"


@contextmanager
def observing(metrics: Metrics | None) -> Generator[None]:
    """Within this block, `upstream_status` and `consent` count into `metrics`."""
    token = _CURRENT.set(metrics)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def upstream_status(status: int) -> None:
    if (m := _CURRENT.get()) is not None:
        m.upstream.labels(str(status)).inc()


def consent(event: str) -> None:
    if (m := _CURRENT.get()) is not None:
        m.consent.labels(event).inc()
