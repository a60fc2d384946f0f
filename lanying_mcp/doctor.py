"""`lanying-mcp doctor`: the checks a new user runs right after setting the three variables.

Each check is a row: what was checked, whether it passed, what was seen, and the next step when it
did not. The point is to turn "the model says every call fails" into one line that names the layer
at fault (DNS, TLS, HTTP, the envelope, the app ID, the token, its role, the clock) before any tool
is tried.

Only reads are sent to an app: `GET /user/list` (one row) for the connection, app, token and role,
then one read per toolset. Two toolsets have no read (`tokens` logs a user in, `ai` sends a message):
on a real app their rows are skipped and say how to try them by hand. `--sandbox` runs on a sandbox the
doctor fills first (a user, a chatbot, a group: `seed_sandbox`), where those two are tried as well, so
that a healthy run shows every row passing. The access token appears nowhere in the output, not even in
part: only whether it is set and its length.
"""

from __future__ import annotations

import json
import platform
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import anyio
import httpx2

from .core.error_text import entry
from .core.errors import LanyingError
from .core.json_values import as_array, as_object
from .core.settings import Settings
from .core.version import __version__
from .engine import roles
from .engine.client import LanyingClient
from .toolsets import TOOLSETS

OK, FAIL, SKIP = "ok", "fail", "skip"
CLOCK_TOLERANCE = 300.0  # seconds; signed upload URLs and token lifetimes are minutes, not seconds
PROBE_PATH = "/user/list"  # needs the admin token: a user token gets 10010
AUTH_CODES = {10003, 10008, 10010, 40000}  # answers that say the credentials, not the read, are wrong

# One cheap read per toolset: (tool, arguments). "$user" / "$group" become a user and a group of the
# app found by the first reads; a probe whose placeholder cannot be filled is skipped, not failed.
PROBES = roles.PROBES

WRITE_PROBES = roles.WRITE_PROBES


@dataclass(frozen=True)
class Seed:
    """What `seed_sandbox` made: a user who owns a group with a chatbot in it."""

    user_id: int
    username: str
    password: str
    group_id: int
    chatbot_id: int


@dataclass
class Check:
    name: str
    status: str  # ok | fail | skip
    detail: str
    next_step: str = ""


def passed(checks: list[Check]) -> bool:
    """No check failed (skipped ones are not failures, and are not counted as passed either: see `summary`)."""
    return all(c.status != FAIL for c in checks)


def counts(checks: list[Check]) -> dict[str, int]:
    return {
        "passed": sum(c.status == OK for c in checks),
        "skipped": sum(c.status == SKIP for c in checks),
        "failed": sum(c.status == FAIL for c in checks),
    }


def summary(checks: list[Check]) -> str:
    """`all 19 checks passed` only when every check ran and passed; otherwise the three counts."""
    n = counts(checks)
    if not n["skipped"] and not n["failed"]:
        return f"all {n['passed']} checks passed"
    text = f"{n['passed']} passed, {n['skipped']} skipped (not checked), {n['failed']} failed"
    return text + (" — the run is incomplete: see the SKIP rows" if not n["failed"] else "")


def _token_note(settings: Settings) -> str:
    token = settings.access_token.get_secret_value()
    return f"set ({len(token)} characters, not shown)" if token else "not set"


async def run_checks(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    clock_tolerance: float = CLOCK_TOLERANCE,
    seed: Seed | None = None,
) -> list[Check]:
    """Every check in order; later ones are skipped (with the reason) when an earlier layer failed.

    `seed` is what `seed_sandbox` made: its user and group are read, and the toolsets without a read are
    tried on them too. Without it the doctor finds a user and a group of the app by reading.
    """
    checks = await _run(settings, transport, clock_tolerance, seed)
    return [_scrub(c, settings) for c in checks]


def approval_check(settings: Settings) -> Check:
    """How a risky call reaches a human with these settings; FAIL when a configured channel cannot work."""
    from .review import askpass, channels

    chosen = channels.approval(settings)
    if not settings.confirm:
        return Check("approval", OK, "consent is off (--no-confirm): risky calls run without asking anyone")
    where = {
        "auto": "elicitation where the client declares it, else the approval page",
        "elicitation": "elicitation only; a client that cannot ask gets confirmation_required",
        "page": "the approval page for every client",
        "askpass": "the askpass program for every client",
        "off": "no channel: risky calls answer confirmation_required",
    }[chosen]
    detail = f"LANYING_APPROVAL={chosen}: {where}"
    if settings.askpass:
        why = askpass.problem(settings.askpass)
        if why is not None:
            return Check(
                "approval",
                FAIL,
                f"{detail}; askpass: {why}",
                "point LANYING_ASKPASS at an executable helper (README: Safety, askpass), or unset it",
            )
        detail += f"; askpass program {settings.askpass} ({settings.askpass_seconds:g} s to answer)"
    elif chosen == "askpass":
        return Check(
            "approval",
            FAIL,
            f"{detail}, but LANYING_ASKPASS names no program",
            "set LANYING_ASKPASS to the full path of a helper (README: Safety, askpass), or choose another channel",
        )
    return Check("approval", OK, detail)


def client_checks(key: str, settings: Settings) -> list[Check] | None:
    """`doctor --client <host>`: the channel that host would get with these settings; None for an unknown host."""
    from .review import channels

    host = channels.host(key)
    if host is None:
        return None
    got, why = channels.for_host(host, settings)
    step = ""
    status = OK
    if got == "none" and settings.confirm:
        status, step = FAIL, "choose a channel this host can use: LANYING_APPROVAL=auto, page or askpass"
    elif got == "elicitation" and host.renders is False:
        status, step = FAIL, "set LANYING_APPROVAL=page, or askpass with LANYING_ASKPASS, for this host"
    sources = ", ".join(host.sources)
    return [
        approval_check(settings),
        Check(f"client {host.key}", status, f"{host.name} gets: {got} — {why}", step),
        Check("host facts", OK, f"{host.fact} ({sources}). {channels.NOT_TESTED}"),
    ]


def _toolset_names() -> list[str]:
    return [f"toolset {n}" for n in TOOLSETS]


async def _run(
    settings: Settings, transport: httpx2.AsyncBaseTransport | None, clock_tolerance: float, seed: Seed | None
) -> list[Check]:
    checks = [
        Check(
            "version",
            OK,
            f"lanying-mcp {__version__}, mcp {_dist_version('mcp')}, Python {platform.python_version()}",
        )
    ]
    given = _settings_check(settings)
    checks += [given, approval_check(settings)]  # the approval row sends nothing: it never waits for the endpoint
    later = ["endpoint", "app id", "token", "admin token", "clock", *_toolset_names()]
    if given.status == FAIL:
        return checks + [Check(n, SKIP, "not run: settings are incomplete") for n in later]
    try:
        with anyio.fail_after(max(settings.timeout, 1.0) * 2):
            response, endpoint = await _reach(settings, transport)
    except TimeoutError:
        response, endpoint = None, Check("endpoint", FAIL, "no answer in time", _endpoint_step())
    checks.append(endpoint)
    if response is None:
        return checks + [Check(n, SKIP, "not run: the endpoint did not answer") for n in later[1:]]
    body = _envelope(response)
    if body is None:
        return checks + [Check(n, SKIP, "not run: the endpoint does not speak the Lanying API") for n in later[1:]]
    checks += _credential_checks(settings, body)
    checks.append(_clock_check(response, clock_tolerance))
    if checks[-2].status != OK:
        return checks + [Check(n, SKIP, "not run: the credentials were refused") for n in _toolset_names()]
    return checks + await _toolset_checks(settings, transport, body.get("data"), seed)


def _dist_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _settings_check(settings: Settings) -> Check:
    missing = [
        var
        for var, value in (
            ("LANYING_API_ENDPOINT", settings.endpoint),
            ("LANYING_APP_ID", settings.app_id),
            ("LANYING_ACCESS_TOKEN", settings.access_token.get_secret_value()),
        )
        if not value
    ]
    shown = f"endpoint {settings.endpoint or '-'}, app id {settings.app_id or '-'}, token {_token_note(settings)}"
    if missing:
        return Check(
            "settings",
            FAIL,
            shown,
            f"set {', '.join(missing)} (from the Lanying console: app info and Token pages), "
            "or try `lanying-mcp doctor --sandbox`",
        )
    url = urlparse(settings.endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        return Check(
            "settings",
            FAIL,
            shown,
            "LANYING_API_ENDPOINT must be an http(s) URL such as https://s-1-3-api.maximtop.cn",
        )
    return Check("settings", OK, shown)


def _endpoint_step() -> str:
    return "check LANYING_API_ENDPOINT against the console's app info page, and that this machine can reach it"


async def _reach(
    settings: Settings, transport: httpx2.AsyncBaseTransport | None
) -> tuple[httpx2.Response | None, Check]:
    """DNS, then TLS and HTTP in one request, each failure named by its layer."""
    url = urlparse(settings.endpoint)
    host = url.hostname or ""
    if transport is None:
        try:
            await anyio.getaddrinfo(host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except OSError as exc:
            return None, Check("endpoint", FAIL, f"DNS: cannot resolve {host} ({exc})", _endpoint_step())
    headers = {"app_id": settings.app_id, "access-token": settings.access_token.get_secret_value()}
    try:
        http = httpx2.AsyncClient(
            transport=transport,
            timeout=httpx2.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
            headers={"User-Agent": f"lanying-mcp/{__version__} doctor"},
        )
        async with http:  # entered here, not in `with ... as`: httpx2's __aenter__ is untyped
            response = await http.get(
                settings.endpoint.rstrip("/") + PROBE_PATH, params={"page_num": 1, "page_size": 1}, headers=headers
            )
            await response.aread()
    except httpx2.ConnectError as exc:
        text = str(exc)
        if "SSL" in text or "CERTIFICATE" in text.upper():
            return None, Check(
                "endpoint",
                FAIL,
                f"TLS: handshake with {host} failed ({text})",
                "check the URL's scheme and host, and "
                "that this machine trusts the server's certificate (corporate proxies replace it)",
            )
        return None, Check(
            "endpoint", FAIL, f"connection to {url.netloc} failed ({text or 'refused'})", _endpoint_step()
        )
    except httpx2.TimeoutException:
        return None, Check(
            "endpoint", FAIL, f"{url.netloc} did not answer within {settings.timeout:g} s", _endpoint_step()
        )
    except httpx2.HTTPError as exc:
        return None, Check("endpoint", FAIL, f"HTTP: {type(exc).__name__}: {exc}", _endpoint_step())
    return response, _envelope_check(response)


def _envelope(response: httpx2.Response) -> dict[str, Any] | None:
    if response.status_code >= 500:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    envelope = as_object(body)
    return envelope if envelope is not None and isinstance(envelope.get("code"), int) else None


def _envelope_check(response: httpx2.Response) -> Check:
    status = response.status_code
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    snippet = " ".join(response.text.split())[:80]
    if status >= 500:
        return Check(
            "endpoint",
            FAIL,
            f"HTTP {status} from the server ({kind}: {snippet!r})",
            "the service or a proxy in front of it is failing: retry later, or check the endpoint URL",
        )
    if _envelope(response) is None:
        return Check(
            "endpoint",
            FAIL,
            f"HTTP {status} answered {kind}, not the Lanying JSON envelope ({snippet!r})",
            "the URL reaches something else (a web page, a login portal or a proxy): use the API endpoint "
            "from the console's app info page, without a path",
        )
    return Check("endpoint", OK, f"HTTP {status}, Lanying envelope from {urlparse(str(response.url)).netloc}")


def _credential_checks(settings: Settings, body: dict[str, Any]) -> list[Check]:
    code = body["code"]
    said = f"code {code}: {entry(code).en}" + (f" ({body['message']})" if body.get("message") else "")
    if code == 40000:
        return [
            Check(
                "app id",
                FAIL,
                f"app id {settings.app_id!r} refused, {said}",
                "copy LANYING_APP_ID from the console's app info page",
            ),
            Check("token", SKIP, "not run: the app ID was refused"),
            Check("admin token", SKIP, "not run: the app ID was refused"),
        ]
    app = Check("app id", OK, f"app id {settings.app_id!r} exists")
    if code in (10003, 10008):
        step = "create or copy an admin access token on the console's Token page into LANYING_ACCESS_TOKEN"
        return [
            app,
            Check("token", FAIL, f"token {_token_note(settings)} refused, {said}", step),
            Check("admin token", SKIP, "not run: the token was refused"),
        ]
    token = Check("token", OK, f"token {_token_note(settings)} accepted")
    if code == 200:
        return [app, token, Check("admin token", OK, f"GET {PROBE_PATH} (admin only) answered")]
    if code == 10010:
        detail = f"GET {PROBE_PATH} refused, {said}: this is a user's token, not the app's admin token"
    else:
        detail = f"GET {PROBE_PATH} answered {said}"
    return [
        app,
        token,
        Check(
            "admin token",
            FAIL,
            detail,
            "use the app's admin access token from the console's Token page, not a user token",
        ),
    ]


def _clock_check(response: httpx2.Response, tolerance: float) -> Check:
    date = response.headers.get("date")
    if not date:
        return Check("clock", SKIP, "the server sent no Date header to compare with")
    try:
        server = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return Check("clock", SKIP, f"the server's Date header {date!r} is not a date")
    skew = time.time() - server
    where = f"local clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the server"
    if abs(skew) > tolerance:
        return Check(
            "clock",
            FAIL,
            f"{where} (tolerance {tolerance:g} s)",
            "turn on time synchronisation (e.g. `timedatectl set-ntp true`): upload URLs and tokens expire by the clock",
        )
    return Check("clock", OK, f"{where}, within {tolerance:g} s")


async def _toolset_checks(settings: Settings, transport: Any, first_page: Any, seed: Seed | None) -> list[Check]:
    """One call per toolset through the same client the tools use (no retries: a doctor reports, not hides)."""
    async with LanyingClient(settings, transport=transport) as client:
        found = await _placeholders(client, first_page, seed)
        rows: list[Check] = []
        for toolset in TOOLSETS:
            name = f"toolset {toolset}"
            if toolset in PROBES:
                tool, template = PROBES[toolset]
            elif toolset in WRITE_PROBES and seed is not None:
                tool, template = WRITE_PROBES[toolset]
            elif toolset in WRITE_PROBES:
                tool = WRITE_PROBES[toolset][0]
                rows.append(
                    Check(
                        name,
                        SKIP,
                        f"not tried: every tool of {toolset} writes ({tool} {_WRITES[toolset]}), and the doctor "
                        f"sends reads only; try it by hand with `lanying-mcp call {tool}`",
                    )
                )
                continue
            else:
                rows.append(Check(name, SKIP, "not tried: the doctor knows no call for this toolset"))
                continue
            missing = sorted({v for v in _strings(template) if v in found and found[v] is None})
            if missing:
                what = "user" if "$user" in missing else "group"
                rows.append(Check(name, SKIP, f"{tool} not tried: the app has no {what} to read"))
                continue
            rows.append(await _probe(client, name, tool, _fill(template, found)))
    return rows


_WRITES = {"tokens": "logs a user in, with their password", "ai": "sends a chatbot a message"}


async def _placeholders(client: LanyingClient, first_page: Any, seed: Seed | None) -> dict[str, Any]:
    """Values for "$user", "$group" and the seed's others: from the seed, else the app's first user and group."""
    from .engine.call import validate
    from .toolsets import CATALOGUE

    if seed is not None:
        return {
            "$user": seed.user_id,
            "$group": seed.group_id,
            "$username": seed.username,
            "$password": seed.password,
            "$chatbot": seed.chatbot_id,
        }
    rows = as_array(first_page)
    first_row = as_object(rows[0]) if rows else None
    user = first_row.get("user_id") if first_row is not None else None
    found: dict[str, Any] = {"$user": user, "$group": None}
    if user is not None:  # a group to read from: one the first user belongs to
        op = CATALOGUE[roles.USER_GROUPS]
        try:
            groups = await client.call(op, validate(op, {"as_user_id": user}), retry=False)
        except LanyingError:
            return found
        groups_rows = as_array(groups.data)
        if groups_rows:
            first = groups_rows[0]
            row = as_object(first)
            found["$group"] = row.get("group_id") if row is not None else first
    return found


def _strings(template: Any) -> list[str]:
    if (obj := as_object(template)) is not None:
        return [s for v in obj.values() for s in _strings(v)]
    if (items := as_array(template)) is not None:
        return [s for v in items for s in _strings(v)]
    return [template] if isinstance(template, str) else []


def _fill(template: Any, found: dict[str, Any]) -> Any:
    if (obj := as_object(template)) is not None:
        return {k: _fill(v, found) for k, v in obj.items()}
    if (items := as_array(template)) is not None:
        return [_fill(v, found) for v in items]
    return found.get(template, template) if isinstance(template, str) else template


async def _probe(client: LanyingClient, name: str, tool: str, args: dict[str, Any]) -> Check:
    """The tool's own answer, run as a tool runs: OK only for a success; any error code fails the row."""
    from .engine.call import CallContext, validate
    from .engine.dispatch import execute
    from .safety.consent import Grant
    from .toolsets import CATALOGUE

    op = CATALOGUE[tool]
    ctx = CallContext(client, catalogue=CATALOGUE)
    if not op.hints.read_only:  # a write probe runs only on the doctor's own sandbox: this is its yes
        ctx.grant = Grant.of([(op, validate(op, args))])
    outcome = await execute(op, args, ctx)
    if outcome.ok:
        return Check(name, OK, f"{tool} answered")
    error = as_object(outcome.structured.get("error")) or {}
    code = error.get("code", "?")
    said = f"{tool}: code {code}: {error.get('meaning') or error.get('message') or 'failed'}"
    message = error.get("message")
    if isinstance(message, str) and message and message not in said:
        said += f" ({message})"
    if code in AUTH_CODES:
        return Check(name, FAIL, said, "the token lacks a right this toolset needs; use the admin token")
    if isinstance(code, int):
        step = f"{op.method} {op.path} answered with an error: `lanying-mcp errors {code}` explains it"
    else:
        step = f"{op.method} {op.path} is not served as documented at this endpoint"
    hint = error.get("hint")
    return Check(name, FAIL, said, step + (f"; {hint}" if isinstance(hint, str) and hint else ""))


async def seed_sandbox(settings: Settings, transport: httpx2.AsyncBaseTransport) -> Seed:
    """Fill an empty sandbox so that every toolset has something to work on: a user, a chatbot, a group."""
    from .engine.call import validate
    from .toolsets import CATALOGUE

    async with LanyingClient(settings, transport=transport) as client:

        async def call(tool: str, args: dict[str, Any]) -> Any:
            op = CATALOGUE[tool]
            return (await client.call(op, validate(op, args), retry=False)).data

        user = await call(roles.REGISTER_USER, {"username": "doctor_ann", "password": "doctor-pw-1"})
        bot = await call(roles.REGISTER_USER, {"username": "doctor_bot", "password": "doctor-pw-2"})
        group = await call(
            roles.CREATE_GROUP, {"as_user_id": user["user_id"], "name": "doctor crew", "user_ids": [bot["user_id"]]}
        )
    return Seed(user["user_id"], "doctor_ann", "doctor-pw-1", group["group_id"], bot["user_id"])


def with_date_header(app: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """An in-process ASGI app answering with the `Date` header an HTTP server adds, for the clock check."""
    from email.utils import formatdate

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_dated(message: Any) -> None:
            if message.get("type") == "http.response.start":
                date = formatdate(time.time(), usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", date)]}
            await send(message)

        await app(scope, receive, send_dated)

    return wrapped


def _scrub(check: Check, settings: Settings) -> Check:
    token = settings.access_token.get_secret_value()
    if token and len(token) >= 4:
        check.detail = check.detail.replace(token, "***")
        check.next_step = check.next_step.replace(token, "***")
    return check


def table(checks: list[Check]) -> str:
    """One line per check (a run of checks skipped for the same reason shares one), next steps under failures."""
    rows: list[Check] = []
    for c in checks:
        last = rows[-1] if rows else None
        if (
            last
            and c.status == SKIP
            and last.status == SKIP
            and c.detail == last.detail
            and c.detail.startswith("not run")
        ):
            first = last.name.split(" … ")[0]
            rows[-1] = Check(f"{first} … {c.name}", SKIP, c.detail)
        else:
            rows.append(c)
    width = max(len(c.name) for c in rows)
    lines: list[str] = []
    for c in rows:
        lines.append(f"{c.status.upper():<4}  {c.name:<{width}}  {c.detail}")
        if c.next_step and c.status == FAIL:
            lines.append(f"{'':<4}  {'':<{width}}  → {c.next_step}")
    lines.append("")
    lines.append(summary(checks))
    return "\n".join(lines)


def as_json(checks: list[Check]) -> str:
    return json.dumps(
        {"ok": passed(checks), **counts(checks), "checks": [asdict(c) for c in checks]}, ensure_ascii=False, indent=2
    )
