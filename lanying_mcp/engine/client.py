"""LanyingClient: the one HTTP path from an operation and its arguments to a decoded envelope.

`build_request` reads each params field's placement marker (see `spec.py`) and builds the request
with no per-operation code. `LanyingClient.call` sends it over one shared `httpx2.AsyncClient`,
decodes the `{code, message, data}` envelope once, and raises an `errors.LanyingError` for every
kind of failure: a Lanying code other than 200 is a failure even under HTTP 200.

Credentials are added per request to API calls only, never to the object-storage upload URL the
API hands back, and never appear in an exception text.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, cast

import anyio
import httpx2
from pydantic import BaseModel

from ..core.errors import (
    ApiError,
    ArgumentError,
    HttpStatusError,
    InvalidResponse,
    LanyingError,
    ResponseTooLarge,
    SettingsError,
    TransportError,
)
from ..core.settings import Settings
from ..core.spec import In, Loc, Operation, Params, by_name
from ..core.version import __version__
from . import metrics, tracing

log = logging.getLogger("lanying_mcp.engine.client")

ENVELOPE_KEYS = ("code", "message", "data")
# Bodies larger than this are parsed in a worker thread, so one huge answer does not stall other calls.
PARSE_OFF_LOOP = 256 * 1024
# Answers nested deeper than this are refused: nothing the API documents comes close.
MAX_DEPTH = 100
UPLOAD_ANSWER_BYTES = 64 * 1024


@dataclass
class BuiltRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict[str, str])
    query: dict[str, str] = field(default_factory=dict[str, str])
    json: Any = None  # a JSON object or array body
    content: bytes | None = None  # a raw body (raw JSON string)


@dataclass
class Envelope:
    data: Any
    extras: dict[str, Any]


def _placement(op: Operation, name: str, info: Any) -> Loc:
    for meta in getattr(info, "metadata", ()) or ():
        if isinstance(meta, Loc):
            return meta
    return Loc(In.QUERY if op.method in ("GET", "DELETE") else In.BODY)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_query_value(v) for v in cast(Sequence[Any], value))
    return str(value)


_PLAIN = (str, int, float, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)


def _dump(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True, by_alias=True)
    if isinstance(value, (list, tuple)):
        items = cast(Sequence[Any], value)
        if set(map(type, items)) <= _PLAIN_TYPES:  # a list of IDs: as it is (a bulk call sends thousands)
            return list(items)
        return [_dump(v) for v in items]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in cast(dict[Any, Any], value).items()}
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value  # enums
    return value


def build_request(op: Operation, params: Params, *, alternate: bool = False) -> BuiltRequest:
    """The HTTP request for `op` with validated `params`, built from field placement alone.

    `alternate` sends the operation's first documented alias method instead (an operator setting for
    deployments that accept only that one); fields stay where the primary method puts them.
    """
    for name, _ in by_name(type(params)):
        if getattr(params, name, None):  # names are looked up before validation; never sent unresolved
            raise ArgumentError(f"{name} reached the request unresolved; nothing was sent")
    req = BuiltRequest(op.aliases[0] if alternate and op.aliases else op.method, op.path)
    body: dict[str, Any] = {}
    raw: Any = None
    has_raw = False
    for name, info, value in _wire_fields(params):
        if value is None:
            continue
        loc = _placement(op, name, info)
        wire = loc.wire or info.alias or name
        if loc.where is In.HEADER:
            req.headers[wire] = _query_value(value)
        elif loc.where is In.QUERY:
            req.query[wire] = _query_value(value)
        elif loc.where is In.RAW:
            raw, has_raw = _dump(value), True
        else:
            body[wire] = _dump(value)
    if has_raw:
        if isinstance(raw, str):
            req.content = raw.encode("utf-8")
        else:
            req.json = raw
    elif body or op.method in ("POST", "PUT") and _expects_body(op, params):
        req.json = body
    return req


def _wire_fields(params: Params) -> list[tuple[str, Any, Any]]:
    """(name, field info, value) of what is sent: declared fields not marked `exclude`, then computed ones.

    Tool-only arguments (`exclude=True`) shape the call without being sent as such; computed fields
    derive wire values from them (e.g. `user_ids` → `targets` + `type`).
    """
    model = type(params)
    out = [(n, i, getattr(params, n)) for n, i in model.model_fields.items() if not i.exclude]
    out += [(n, i, getattr(params, n)) for n, i in model.model_computed_fields.items()]
    return out


def _expects_body(op: Operation, params: Params) -> bool:
    return any(_placement(op, n, i).where is In.BODY for n, i, _ in _wire_fields(params))


def check_alternate_methods(names: tuple[str, ...] | list[str], catalogue: dict[str, Operation]) -> None:
    """Refuse at start-up a LANYING_ALTERNATE_METHODS entry that names no tool, or a tool with one method only."""
    for name in names:
        op = catalogue.get(name)
        if op is None:
            raise SettingsError(f"LANYING_ALTERNATE_METHODS: {name!r} is not a tool of this server")
        if not op.aliases:
            raise SettingsError(
                f"LANYING_ALTERNATE_METHODS: {name} has no documented alternate method (it is sent as {op.http} only)"
            )


class _NoCookies(DefaultCookiePolicy):
    """The API uses no cookies; storing one would carry it from one app's credentials to another's."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


@dataclass(frozen=True)
class RetryPolicy:
    """Retries for calls that are safe to repeat: bounded in attempts and in total time."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 4.0
    total: float = 15.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


class LanyingClient:
    """One HTTP connection pool per server; every API call goes through `call`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._transport = transport
        self._pool: list[httpx2.AsyncClient] = []  # created on first use, shared by with_settings() views

    @property
    def _http(self) -> httpx2.AsyncClient:
        if not self._pool:
            self._pool.append(
                httpx2.AsyncClient(
                    base_url=self.settings.endpoint.rstrip("/") or "http://sandbox.invalid",
                    timeout=httpx2.Timeout(self.settings.timeout, connect=min(self.settings.timeout, 10.0)),
                    transport=self._transport,
                    follow_redirects=False,
                    cookies=CookieJar(policy=_NoCookies()),
                    # Only encodings this client decompresses itself, counting the bytes (see _read_body).
                    headers={"User-Agent": f"lanying-mcp/{__version__}", "Accept-Encoding": "gzip, deflate"},
                )
            )
        return self._pool[0]

    def with_settings(self, settings: Settings) -> LanyingClient:
        """A view for another app (endpoint or credentials) that shares this client's connection pool."""
        view = object.__new__(LanyingClient)
        view.settings, view.retry, view._transport, view._pool = settings, self.retry, self._transport, self._pool
        return view

    async def probe(self, timeout: float = 5.0) -> str | None:
        """None when the endpoint answers HTTP at all (any status: it is reachable), else why not.

        Sends no credentials; for readiness checks."""
        try:
            await self._http.get("/", timeout=timeout, headers={"Accept": "*/*"})
        except httpx2.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None

    async def aclose(self) -> None:
        if self._pool:
            await self._pool.pop().aclose()

    async def __aenter__(self) -> LanyingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _auth_headers(self) -> dict[str, str]:
        headers = {"app_id": self.settings.app_id}
        token = self.settings.access_token.get_secret_value()
        if token:
            headers["access-token"] = token
        return headers

    async def call(self, op: Operation, params: Params, *, retry: bool | None = None) -> Envelope:
        """Send `op`; retry only when repeating it cannot apply it twice."""
        req = build_request(op, params, alternate=op.name in self.settings.alternate_methods)
        safe = op.hints.read_only or op.hints.idempotent if retry is None else retry
        attempts = self.retry.attempts if safe else 1
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                return await self._send(op, req)
            except LanyingError as exc:
                asked = getattr(exc, "retry_after", None)
                wait = self.retry.delay(attempt, asked)
                last = attempt == attempts or time.monotonic() - started + wait > self.retry.total
                # The API asks for a longer wait than the whole retry budget, or one the call's deadline would
                # cut off: answer now with its Retry-After rather than sleep (or be stopped mid-sleep). A shorter
                # Retry-After is waited for, capped at the policy's longest single wait.
                last = last or (asked is not None and asked > self.retry.total) or not _fits(wait)
                # A Lanying error code is an answer, not a transient failure: never repeat the request for it.
                if not exc.retryable or isinstance(exc, ApiError) or last:
                    if not safe and exc.may_have_applied is None and not isinstance(exc, ApiError):
                        raise exc.with_applied(True) from exc
                    raise
                log.info("%s attempt %d failed (%s); retrying in %.2fs", op.name, attempt, exc.code, wait)
                await anyio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, op: Operation, req: BuiltRequest) -> Envelope:
        headers = {**self._auth_headers(), **req.headers}
        kwargs: dict[str, Any] = {"params": req.query or None, "headers": headers}
        if req.json is not None:
            kwargs["json"] = req.json
        elif req.content is not None:
            kwargs["content"] = req.content
            headers["Content-Type"] = "application/json"
        url = self.settings.endpoint.rstrip("/") + req.path if self.settings.endpoint else req.path
        with tracing.upstream_span(req.method, req.path) as span:
            response, body = await self._exchange(req.method, url, self.settings.max_response_bytes, **kwargs)
            span.set_attribute("http.response.status_code", response.status_code)
        if len(body) > PARSE_OFF_LOOP:
            return await anyio.to_thread.run_sync(decode, op, response, body)
        return decode(op, response, body)

    async def _exchange(self, method: str, url: str, cap: int, **kwargs: Any) -> tuple[httpx2.Response, bytes]:
        """One request and its whole body, bounded in time (connect to last byte) and in decoded size."""
        timeout = self.settings.timeout
        try:
            with anyio.fail_after(timeout):
                async with self._http.stream(method, url, **kwargs) as response:
                    metrics.upstream_status(response.status_code)
                    return response, await _read_body(response, cap)
        except TimeoutError:
            raise TransportError(
                f"no complete answer within {timeout:g} s (LANYING_TIMEOUT bounds the whole exchange)", code="timeout"
            ) from None
        except httpx2.InvalidURL as exc:
            raise ArgumentError(
                f"an argument is too long or malformed for the request URL ({exc}); nothing was sent",
                may_have_applied=False,
            ) from None
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
            raise TransportError(_transport_message(exc), code=_transport_code(exc), may_have_applied=False) from None
        except httpx2.TimeoutException as exc:
            raise TransportError(_transport_message(exc), code="timeout") from None
        except httpx2.TransportError as exc:
            raise TransportError(_transport_message(exc), code="connection_error") from None

    async def upload(self, url: str, method: str, fields: dict[str, str], filename: str, content: bytes) -> None:
        """Multipart upload to the storage URL the API handed out. No API credentials go there."""
        method = (method or "POST").upper()
        if method not in ("POST", "PUT"):
            raise InvalidResponse(f"the API asked for an unsupported upload method {method!r}")
        files = {"file": (filename, content, "application/octet-stream")}
        headers = {"User-Agent": f"lanying-mcp/{__version__}"}
        response, body = await self._exchange(
            method, url, UPLOAD_ANSWER_BYTES, data=fields or {}, files=files, headers=headers
        )
        if response.status_code >= 300:
            text = _snippet_bytes(body) or response.reason_phrase
            raise HttpStatusError(response.status_code, "upload rejected: " + text)


async def _read_body(response: httpx2.Response, cap: int) -> bytes:
    """The body, decompressed here with a bound on the output, so a small gzip bomb cannot grow past `cap`."""
    if hasattr(response, "_content"):  # built in memory (a mock transport): already decoded, nothing to stream
        if len(response.content) > cap:
            raise ResponseTooLarge(cap)
        return response.content
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    else:
        raise InvalidResponse(f"the API answered with an unsupported Content-Encoding {encoding!r}")
    declared = response.headers.get("Content-Length", "")
    if decoder is None and declared.isdigit() and int(declared) > cap:
        raise ResponseTooLarge(cap, int(declared))
    buf = bytearray()
    async for chunk in response.aiter_raw():
        if decoder is not None:
            try:
                chunk = decoder.decompress(chunk, cap + 1 - len(buf))
            except zlib.error as exc:
                raise InvalidResponse(f"the {encoding} body could not be decompressed ({exc})") from None
        buf += chunk
        if len(buf) > cap:
            raise ResponseTooLarge(cap)
    return bytes(buf)


def _fits(wait: float) -> bool:
    """Whether sleeping `wait` seconds still leaves time before the enclosing deadline (LANYING_CALL_DEADLINE)."""
    return anyio.current_time() + wait < anyio.current_effective_deadline()


def _transport_code(exc: Exception) -> str:
    return "timeout" if isinstance(exc, httpx2.TimeoutException) else "connection_error"


def _transport_message(exc: Exception) -> str:
    kind = type(exc).__name__
    detail = str(exc).strip()
    return f"{kind}: {detail}" if detail else kind


def _retry_after(response: httpx2.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _parse(body: bytes) -> Any:
    """The JSON value of `body`, or None when it is not JSON; too deep a nesting is refused."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    # A value nests no deeper than the brackets it holds: most answers are ruled out without a walk.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _too_deep(body):
        raise InvalidResponse(f"the answer is nested deeper than {MAX_DEPTH} levels")
    return payload


_BRACKETS_AND_QUOTES = bytes(b for b in range(256) if b not in b'"[]{}')
_EMPTY_PAIR = re.compile(rb"\{\}|\[\]")


def _too_deep(body: bytes) -> bool:
    """Whether the (valid) JSON text nests deeper than MAX_DEPTH, read from its brackets alone.

    Strings are dropped without a regular expression: escaped backslashes, then escaped quotes, are
    removed (in valid JSON every backslash starts a two-character escape), everything but quotes and
    brackets is deleted, and what lies between a pair of quotes goes. Then each pass removes the empty
    pairs present at its start (one level: a pair emptied by the same pass waits for the next), at most
    MAX_DEPTH passes. Each step is a C-speed scan of bytes: a wide answer of thousands of rows costs a
    fraction of its json.loads.
    """
    shape = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _BRACKETS_AND_QUOTES)
    shape = b"".join(shape.split(b'"')[::2])
    for _ in range(MAX_DEPTH):
        if not shape:
            return False
        shape = _EMPTY_PAIR.sub(b"", shape)
    return bool(shape)


def decode(op: Operation, response: httpx2.Response, body: bytes | None = None) -> Envelope:
    """Turn an HTTP response (and its body, when already read) into an Envelope, or raise the matching error."""
    status = response.status_code
    if op.redirect and status in (301, 302, 303, 307, 308):
        return Envelope({"location": response.headers.get("Location", "")}, {})
    body = response.content if body is None else body
    payload = _parse(body)
    if isinstance(payload, dict) and "code" in payload:
        fields = cast(dict[str, Any], payload)
        code = fields.get("code")
        if code == 200:
            if status >= 400:
                raise HttpStatusError(status, f"HTTP {status} with a success body", _retry_after(response))
            extras = {k: v for k, v in fields.items() if k not in ENVELOPE_KEYS}
            return Envelope(fields.get("data"), extras)
        if isinstance(code, int) and not isinstance(code, bool):
            # A gateway's `{"code": 502}` is an HTTP failure, not a Lanying code (those have 5 digits, or 402).
            if status >= 400 and (code == status or not (code == 402 or code >= 10000)):
                message = _text(fields.get("message")) or response.reason_phrase
                raise HttpStatusError(status, _clip(message), _retry_after(response))
            raise ApiError(code, _text(fields.get("message")))
    if status >= 400:
        raise HttpStatusError(status, _snippet_bytes(body) or response.reason_phrase, _retry_after(response))
    if op.redirect and 200 <= status < 300 and payload is None:
        return Envelope({"location": str(response.url)}, {})
    raise InvalidResponse(
        f"HTTP {status}, expected a JSON envelope with 'code', got: {_snippet_bytes(body) or 'an empty body'}"
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value, ensure_ascii=False))


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _snippet_bytes(body: bytes, limit: int = 200) -> str:
    return _clip(body[: limit * 4].decode("utf-8", "replace"), limit)
