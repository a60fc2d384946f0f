"""OpenTelemetry traces over OTLP/HTTP, when `LANYING_OTLP_ENDPOINT` names a collector.

The MCP SDK already wraps each inbound message in a span (`tools/call <name>`, with the tool's name and
the protocol version), through the global tracer provider. Here that provider is set up to export to
the collector, and each request this server sends to the Lanying API gets a client span of its own
(`lanying.api POST /group/destroy`: method, path and status; never the query, headers or body, which
may carry tokens and personal data).

The exporter is the optional `otel` extra (`pip install 'lanying-mcp[otel]'`); without it a server that
is asked for traces stops at start and says how to install it. Batching follows the SDK's
`OTEL_BSP_*` variables; the last spans are sent when the server stops.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace  # the API: a dependency of the MCP SDK, a no-op until a provider is set

from ..core.errors import SettingsError

log = logging.getLogger("lanying_mcp")

_tracer = trace.get_tracer("lanying-mcp")
INSTALL = "pip install 'lanying-mcp[otel]'"


def start(endpoint: str, version: str) -> Any:
    """Export every span to `endpoint` (an OTLP/HTTP base URL); the provider, to `shutdown` at exit."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise SettingsError(f"LANYING_OTLP_ENDPOINT needs the OpenTelemetry SDK and exporter: {INSTALL}") from None
    provider = TracerProvider(resource=Resource.create({"service.name": "lanying-mcp", "service.version": version}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
    trace.set_tracer_provider(provider)
    log.info("exporting traces to %s", endpoint)
    return provider


@contextmanager
def upstream_span(method: str, path: str) -> Generator[Any]:
    """A client span around one request to the Lanying API (a no-op span when traces are off)."""
    with _tracer.start_as_current_span(
        f"lanying.api {method} {path}",
        kind=trace.SpanKind.CLIENT,
        attributes={"http.request.method": method, "url.path": path},
    ) as span:
        yield span
