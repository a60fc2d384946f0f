"""Command line: serve over stdio/SSE/HTTP, run the sandbox, list tools, call one tool, explain errors.

    lanying-mcp [serve] [--transport stdio|sse|http] [--sandbox] ...   run the MCP server (default)
    lanying-mcp sandbox [--host H] [--port N] [--token T]             serve the sandbox API on loopback
    lanying-mcp tools [--toolset X] [--json]                          list tools
    lanying-mcp call TOOL --args '{...}' [--sandbox] [--pick PATH]    run one tool, print its result as JSON
    lanying-mcp errors [CODE]                                         explain error codes
    lanying-mcp doctor [--json] [--sandbox]                           check endpoint, app, token, clock (reads only)
    lanying-mcp doctor --client HOST                                  the approval channel HOST would get
    lanying-mcp changes export [--since DATE]                         the change journal as JSON lines
    lanying-mcp changes erase --before DATE | --user USER_ID          delete journal entries by age or by user

In stdio mode nothing but the protocol is written to stdout: every message of ours goes to stderr.
Settings come from LANYING_* environment variables; flags override them. A missing or malformed
setting is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2

from .core import error_text, errors
from .core.errors import SettingsError
from .core.json_values import as_array, as_object
from .core.settings import Declared, Settings, declared
from .core.version import __version__
from .serving.http_auth import LOOPBACK, BearerAuth

COMMANDS = ("serve", "sandbox", "tools", "call", "errors", "doctor", "changes")
EXIT_USAGE = 2


def _log_setup(level: str = "INFO") -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _settings_args(p: argparse.ArgumentParser) -> None:
    """One flag per declared setting (settings.py), grouped as there; flags left out stay None."""
    groups: dict[str, Any] = {}
    for s in declared():
        g = groups.get(s.opt.group) or groups.setdefault(s.opt.group, p.add_argument_group(s.opt.group))
        g.add_argument(s.flag, dest=s.name, default=None, help=_help(s), **_kind(s))


def _kind(s: Declared) -> dict[str, Any]:
    if s.kind == "switch":
        return {"action": "store_const", "const": not s.default}  # --read-only sets True, --no-confirm False
    if s.opt.choices:
        return {"choices": s.opt.choices}
    return {"metavar": "FILE" if s.opt.path else {"list": "A,B", "int": "N", "float": "N"}.get(s.kind, "TEXT")}


def _help(s: Declared) -> str:
    text = s.opt.help.replace("`", "")
    if s.kind == "switch" and s.default:
        return f"do not {text}" + (f" ({s.env}=false)" if s.env else "")
    where = [s.env] if s.env else []
    default = s.opt.shown.replace("`", "") or ("" if s.kind == "switch" else s.default_text())
    if default:
        where.append(f"default: {default}")
    return text + (f" ({'; '.join(where)})" if where else "")


def _settings(ns: argparse.Namespace) -> Settings:
    return Settings.from_env(**{s.name: getattr(ns, s.name) for s in declared()})


def build(settings: Settings, store: Any = None) -> Any:
    """The MCP server for these settings; with --sandbox, wired in-process to a fresh sandbox.

    Every log line of the process is scrubbed of the tokens this server holds from here on.
    """
    from .safety.redact import install_log_filter, redactor_for

    server = _build(settings, store)
    tokens = [server.lanying_client.settings.access_token.get_secret_value()]
    tokens += [c.settings.access_token.get_secret_value() for c in server.router.app_clients.values()]
    if secret := settings.oauth_client_secret.get_secret_value():
        tokens.append(secret)  # the credential this server introspects OAuth tokens with
    install_log_filter(redactor_for(tuple(tokens)))
    # Everything built so far (the catalogue, its models and schemas) lives as long as the process:
    # keep it out of the garbage collector's full scans, which otherwise cost tens of milliseconds each
    # (the first one used to land on the first tools/list). Collection resumes from here.
    gc.freeze()
    gc.enable()
    return server


def _build(settings: Settings, store: Any = None) -> Any:
    """The server; with --sandbox, on `store` (the saved sandbox of `call`) or a fresh in-process one."""
    from .serving.server import build_server

    if not settings.sandbox:
        return build_server(settings)
    from .sandbox import SANDBOX_APP_ID, Store, build_app

    store = store if store is not None else Store()
    settings = settings.with_(endpoint="http://sandbox.local", app_id=SANDBOX_APP_ID, access_token=store.admin_token)
    _say("lanying-mcp: using the in-process sandbox (emulates the documented API; no real app is touched)")
    return build_server(settings, transport=httpx2.ASGITransport(app=build_app(store)))


def endpoint_url(transport: str, host: str, port: int) -> str:
    """The URL a client connects to: `/mcp` for streamable HTTP, `/sse` for SSE."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}" + ("/sse" if transport == "sse" else "/mcp")


def cmd_serve(ns: argparse.Namespace) -> int:
    settings = _settings(ns).validate()
    guarded = settings.auth_token.get_secret_value() or settings.oauth_issuer
    if ns.transport != "stdio" and ns.host not in LOOPBACK and not guarded:
        raise SettingsError(
            f"--host {ns.host} makes the server reachable beyond this machine: set --auth-token or "
            "LANYING_AUTH_TOKEN (clients then send Authorization: Bearer <token>), or OAuth with LANYING_OAUTH_ISSUER"
        )
    traces = None
    if settings.otlp_endpoint:  # before the server is built, so every span it makes is exported
        from .engine import tracing

        traces = tracing.start(settings.otlp_endpoint, __version__)
    try:
        return _serve(ns, settings)
    finally:
        if traces is not None:
            traces.shutdown()  # the last spans are sent before the process ends


def _serve(ns: argparse.Namespace, settings: Settings) -> int:
    server = build(settings)
    if ns.transport != "stdio" and ns.host not in ("127.0.0.1", "localhost", "::1"):
        _say(f"lanying-mcp: warning: listening on {ns.host}, reachable beyond this machine")
    _say(
        f"lanying-mcp {__version__}: serving {len(server.listed)} tools over {ns.transport}"
        + (f" on {endpoint_url(ns.transport, ns.host, ns.port)}" if ns.transport != "stdio" else "")
    )
    if ns.transport == "stdio":
        from .serving.stdio import line_limit

        anyio.run(server.serve_stdio, line_limit(settings.max_upload_bytes))
        return 0
    _say(f"lanying-mcp: HTTP auth: {auth_mode(settings)}")
    app = build_http_app(
        server, settings, ns.transport, ns.host, ns.port, stateless=ns.stateless, json_response=ns.json_response
    )
    if hasattr(app, "bind"):  # health or metrics on an address of their own: taken before the main server starts
        app.bind()
    serve_http(app, ns.host, ns.port, ns.log_level)
    return 0


def auth_mode(settings: Settings) -> str:
    """The one auth mode of an HTTP server, as said at start: OAuth, a static bearer token, or none."""
    if settings.oauth_issuer:
        how = "introspection or JWKS" if settings.oauth_introspection_url else "JWKS"
        return f"OAuth (issuer {settings.oauth_issuer}, resource {settings.oauth_audience}, tokens checked by {how})"
    if settings.auth_token.get_secret_value():
        return "static bearer token (LANYING_AUTH_TOKEN)"
    return "none (loopback only)"


def build_http_app(
    server: Any,
    settings: Settings,
    transport: str,
    host: str,
    port: int,
    *,
    stateless: bool = False,
    json_response: bool = False,
) -> Any:
    """The ASGI app for the sse or http transport: Host/Origin checks, and the bearer or OAuth guard when configured."""
    security = _transport_security(settings, host, port)
    listeners = _ops_endpoints(server, settings)  # /healthz, /readyz, /metrics: beside /mcp or on their own
    _add_approval_page(server, host, port)
    if transport == "sse":
        app = server.sse_app(host=host, transport_security=security)
    else:
        app = server.streamable_http_app(
            host=host,
            stateless_http=stateless,
            json_response=json_response,
            transport_security=security,
            max_sessions=settings.max_sessions,
            session_idle_timeout=settings.session_idle_timeout,
        )
        if not stateless:
            app = _session_guard(app, settings)
    from .review.approval_page import PATH as APPROVAL_PATH

    if settings.oauth_issuer:
        from .serving.oauth import OAuthGuard

        app = OAuthGuard(app, settings, open_prefixes=(APPROVAL_PATH,))
    else:
        token = settings.auth_token.get_secret_value()
        app = BearerAuth(app, token, open_prefixes=(APPROVAL_PATH,)) if token else app
    if listeners:
        from .serving.health import OpsListeners

        app = OpsListeners(app, listeners)
    return app


def _ops_endpoints(server: Any, settings: Settings) -> list[tuple[str, int, Any]]:
    """Health and metrics routes per LANYING_HEALTH / LANYING_METRICS: added to the server's own app when
    `on`, else the (host, port, app) listeners that serve them on their own address."""
    from .core.settings import split_address
    from .serving.health import add_health_routes, add_metrics_route, health_routes, metrics_routes, ops_app

    apart: dict[tuple[str, int], dict[str, Any]] = {}
    for value, add, routes in (
        (settings.health, add_health_routes, health_routes),
        (settings.metrics, add_metrics_route, metrics_routes),
    ):
        if value == "on":
            add(server)
        elif (address := split_address(value)) is not None:
            apart.setdefault(address, {}).update(routes(server))
    return [(host, port, ops_app(routes)) for (host, port), routes in apart.items()]


def _add_approval_page(server: Any, host: str, port: int) -> None:
    """The approval page on the server's own app: its proof is the one-time secret, not the bearer token."""
    from .review.approval_page import routes

    gate = getattr(server, "gate", None)
    if gate is None or getattr(server, "_approval_routes", False):
        return
    server._approval_routes = True
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else (f"[{host}]" if ":" in host else host)
    server.approval_base = f"http://{shown}:{port}"
    for route in routes(lambda: gate.approvals, server.lanying_settings.lang, time.time):
        server.custom_route(route.path, methods=sorted(route.methods or ()), include_in_schema=False)(route.endpoint)


def _session_guard(app: Any, settings: Settings) -> Any:
    """Stateful sessions bounded in all, per client, idle and half-open (see http_sessions.py)."""
    from .serving.http_sessions import SessionGuard
    from .serving.sdk import LEGACY_VERSIONS

    return SessionGuard(
        app,
        max_sessions=settings.max_sessions,
        max_client_sessions=settings.max_client_sessions,
        idle_timeout=settings.session_idle_timeout,
        init_timeout=settings.session_init_timeout,
        legacy_versions=LEGACY_VERSIONS,
    )


def _transport_security(settings: Settings, host: str, port: int) -> Any:
    """Host/Origin checks against DNS rebinding: this address and loopback, plus --allowed-hosts."""
    from .serving.sdk import transport_security

    names = {host, *LOOPBACK, *settings.allowed_hosts}
    hosts = sorted(
        {n if ":" in n and not n.startswith("[") and n.count(":") == 1 else f"{n}:{port}" for n in names}
        | {f"[::1]:{port}"}
    )
    origins = sorted({f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")})
    return transport_security(hosts, origins)


def serve_http(app: Any, host: str, port: int, level: str = "INFO") -> None:
    """uvicorn with every log line on stderr (its default access log writes to stdout)."""
    import uvicorn

    log_config = {
        "version": 1,
        "disable_existing_loggers": False,
        # the approval page's address holds a one-time secret: masked in every line (the access log's too)
        "filters": {"secret": {"()": "lanying_mcp.review.approval_page.MaskSecret"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["secret"]}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }
    uvicorn.run(app, host=host, port=port, log_config=log_config, log_level=level.lower())


def cmd_sandbox(ns: argparse.Namespace) -> int:
    from .sandbox import NOTICE, Store, build_app

    store = Store(admin_token=ns.token, group_capacity=ns.group_capacity)
    _say(NOTICE)
    _say(f"sandbox: http://{ns.host}:{ns.port}  app_id={store.app_id}  access-token={store.admin_token}")
    _say(
        f"export LANYING_API_ENDPOINT=http://{ns.host}:{ns.port} LANYING_APP_ID={store.app_id} "
        f"LANYING_ACCESS_TOKEN={store.admin_token}"
    )
    serve_http(build_app(store), ns.host, ns.port, "WARNING")
    return 0


def cmd_tools(ns: argparse.Namespace) -> int:
    from .core.schema import input_schema
    from .toolsets import select

    lang = ns.lang or "en"
    ops = select((ns.toolset,) if ns.toolset else ("all",))
    if ns.json:
        rows = [
            {
                "name": op.name,
                "toolset": op.toolset,
                "title": op.text(lang)[0],
                "description": op.text(lang)[1],
                "http": op.http_meta,
                "read_only": op.hints.read_only,
                "destructive": op.hints.destructive,
                "idempotent": op.hints.idempotent,
                "input_schema": input_schema(op.params, lang),
            }
            for op in ops
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max(len(op.name) for op in ops)
    for op in ops:
        flag = "R" if op.hints.read_only else ("D" if op.hints.destructive else "W")
        print(f"{op.name:<{width}}  {flag}  {op.toolset:<16} {op.text(lang)[0]}")
    return 0


def cmd_call(ns: argparse.Namespace) -> int:
    """Run one tool. With --sandbox, on the saved sandbox, so that successive calls build on each other."""
    try:
        json.loads(ns.args) if ns.args else {}
    except json.JSONDecodeError as exc:
        _say(f"lanying-mcp: --args is not valid JSON: {exc}")
        return EXIT_USAGE
    if not ns.sandbox:
        if ns.sandbox_state or ns.new_sandbox:
            _say("lanying-mcp: --sandbox-state and --new-sandbox go with --sandbox")
            return EXIT_USAGE
        return _call(ns, None)
    from .sandbox import saved

    path = Path(ns.sandbox_state) if ns.sandbox_state else saved.default_path()
    try:
        with saved.kept(path, fresh=ns.new_sandbox, say=_say) as store:
            return _call(ns, store)
    except BrokenPipeError:
        raise  # the reader of our output went away: main() ends quietly
    except OSError as exc:
        _say(f"lanying-mcp: cannot keep the sandbox in {path}: {exc.strerror or exc}; pick a file with --sandbox-state")
        return EXIT_USAGE


def _call(ns: argparse.Namespace, store: Any) -> int:
    """The consent decision is the server's own, on the exact arguments: `--yes` is the human's yes."""
    from .core.errors import LanyingError
    from .engine.call import validate
    from .engine.dispatch import execute
    from .engine.usernames import resolve
    from .review.plan import step_fingerprint as plan_step_fingerprint
    from .safety.consent import Grant, risks
    from .serving.server import LanyingServer

    try:
        parsed: Any = json.loads(ns.args) if ns.args else {}
    except json.JSONDecodeError as exc:
        _say(f"lanying-mcp: --args is not valid JSON: {exc}")
        return EXIT_USAGE
    arguments = as_object(parsed)
    if arguments is None:
        _say("lanying-mcp: --args must be a JSON object")
        return EXIT_USAGE
    # The default selection, as the server's: every tool can run, search_tools and call_tool among them.
    settings = _settings(ns).validate()
    server: LanyingServer = build(settings, store)
    op = server.reachable.get(ns.tool)
    if op is None:
        why = server.refusal(ns.tool) or f"no tool named {ns.tool!r} (see `lanying-mcp tools`)"
        _say(f"lanying-mcp: {why}")
        return EXIT_USAGE
    try:
        client, args, target, targs = server.router.route(op, None, arguments)
    except LanyingError as exc:
        _say(f"lanying-mcp: {exc}")
        return EXIT_USAGE

    async def run() -> Any:
        try:
            grant = Grant()
            if target is not None and target.plan and settings.confirm:
                asks = await server.gate.plan_asks(target, targs, server.context(None, client)) or []
                if asks and not ns.yes:
                    steps = ", ".join(f"{step.index} ({step.op.name})" for step, _ in asks)
                    _say(f"lanying-mcp: steps {steps} of this plan need a human's yes; re-run with --yes to confirm")
                    return None
                grant = Grant(frozenset(plan_step_fingerprint(step) for step, _ in asks))
            elif target is not None and settings.confirm:
                try:  # usernames become user IDs first, as in the call: the yes covers those users
                    params = validate(target, await resolve(target, targs, server.context(None, client)))
                except LanyingError:
                    params = None  # the call reports the bad arguments
                found = risks(target, params, server.policy) if params is not None else ()
                if found and not ns.yes:
                    _say(
                        f"lanying-mcp: {target.name} with these arguments needs a human's yes "
                        f"({', '.join(r.value for r in found)}); re-run with --yes to confirm you mean it"
                    )
                    return None
                if ns.yes and params is not None:  # also covers a reach known only once groups are read
                    grant = Grant.of([(target, params)])
            return await execute(op, args, server.context(None, client, grant))
        finally:
            await server.lanying_client.aclose()

    outcome = anyio.run(run)
    if outcome is None:
        return EXIT_USAGE
    _notes(outcome)
    code = 0 if outcome.ok else 1
    if ns.pick and outcome.ok:
        found = _pick(outcome.structured, ns.pick)
        if found is None:
            _say(f"lanying-mcp: the result has nothing at {ns.pick!r}; it was:")
            print(json.dumps(outcome.structured, ensure_ascii=False, indent=2), file=sys.stderr)
            return 1
        print(found if isinstance(found, str) else json.dumps(found, ensure_ascii=False))
    else:
        print(json.dumps(outcome.structured, ensure_ascii=False, indent=2))
    return code


def _pick(value: Any, path: str) -> Any:
    """`data.user_id`, `data.0.group_id`: keys and list positions, dot-separated."""
    for key in path.split("."):
        obj, items = as_object(value), as_array(value)
        if obj is not None:
            value = obj.get(key)
        elif items is not None and key.isdigit() and int(key) < len(items):
            value = items[int(key)]
        else:
            return None
    return value


def _notes(outcome: Any) -> None:
    """The result's sentence for a reader (counts, what a list holds, an error's next step) on stderr, so
    stdout stays the JSON alone; a bulk call's full per-item result goes to a file it names."""
    head = outcome.text.partition("\n")[0] if outcome.text else ""
    if outcome.attachment is not None:
        import tempfile

        fd, path = tempfile.mkstemp(prefix="lanying-result-", suffix=".json")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(outcome.attachment)
        if isinstance(outcome.structured.get("summary"), dict):
            outcome.structured["summary"]["full_result"] = path
        head += f" Full per-item result: {path}"
    if head and not head.startswith("{"):
        _say(head)


def cmd_errors(ns: argparse.Namespace) -> int:
    if ns.code is None:
        for code, e in error_text.catalogue().items():
            print(f"{code!s:<18} {e.en} / {e.zh}")
        return 0
    code: int | str = int(ns.code) if ns.code.isdigit() else ns.code
    e = error_text.entry(code)
    print(
        json.dumps(
            {"code": code, "meaning": e.en, "meaning_zh": e.zh, "hint": e.hint, "retryable": e.retryable},
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def cmd_doctor(ns: argparse.Namespace) -> int:
    from . import doctor

    settings = _settings(ns)
    if ns.client:  # the approval channel a host would get: no request is sent
        from .review.channels import HOSTS

        found = doctor.client_checks(ns.client, settings)
        if found is None:
            print(f"unknown host {ns.client!r}; the hosts are: {', '.join(h.key for h in HOSTS)}", file=sys.stderr)
            return 2
        print(doctor.as_json(found) if ns.json else doctor.table(found))
        return 0 if doctor.passed(found) else 1
    if not settings.sandbox:
        checks = anyio.run(lambda: doctor.run_checks(settings, clock_tolerance=ns.clock_tolerance))
    else:  # a fresh sandbox, filled first so that every row has something to check
        from .sandbox import SANDBOX_APP_ID, Store, build_app

        store = Store()
        settings = settings.with_(
            endpoint="http://sandbox.local", app_id=SANDBOX_APP_ID, access_token=store.admin_token
        )
        transport = httpx2.ASGITransport(app=doctor.with_date_header(build_app(store)))

        async def on_sandbox() -> list[doctor.Check]:
            seed = await doctor.seed_sandbox(settings, transport)
            return await doctor.run_checks(settings, transport=transport, clock_tolerance=ns.clock_tolerance, seed=seed)

        checks = anyio.run(on_sandbox)
    print(doctor.as_json(checks) if ns.json else doctor.table(checks))
    return 0 if doctor.passed(checks) else 1


def cmd_changes(ns: argparse.Namespace) -> int:
    """The operator's hands on the change journal: export it, or erase entries by age or by user."""
    from .core.errors import StateError
    from .engine.journal import Journal
    from .engine.stores import open_state

    setting = ns.state_file if ns.state_file is not None else os.environ.get(declared_env("state_file"), "")
    if setting.strip() == ":memory:":
        _say("lanying-mcp: the change journal of a `:memory:` state lives only inside its server process")
        return EXIT_USAGE
    state = open_state(setting)
    journal = Journal(state)

    async def export() -> int:
        count = 0
        async for line in journal.export(since=ns.since):
            print(line)
            count += 1
        _say(f"lanying-mcp: exported {count} journal entr{'y' if count == 1 else 'ies'}")
        return 0

    async def erase() -> int:
        count = await journal.erase(before=ns.before, user=ns.user)
        what = " and ".join(
            part
            for part in (f"older than {ns.before}" if ns.before else "", f"naming user {ns.user}" if ns.user else "")
            if part
        )
        _say(f"lanying-mcp: erased {count} journal entr{'y' if count == 1 else 'ies'} {what}")
        return 0

    async def run() -> int:
        try:
            return await (export() if ns.action == "export" else erase())
        finally:
            await state.close()

    if ns.action == "erase" and not (ns.before or ns.user):
        _say("lanying-mcp: changes erase needs --before DATE or --user USER_ID (or both)")
        return EXIT_USAGE
    try:
        return anyio.run(run)
    except errors.LanyingError as exc:  # a date that is not one
        _say(f"lanying-mcp: {exc.message}")
        return EXIT_USAGE
    except StateError as exc:
        _say(f"lanying-mcp: {exc}")
        return 1


def declared_env(name: str) -> str:
    """The environment variable of a declared setting."""
    return next(s.env for s in declared() if s.name == name) or ""


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; given the `command` it will parse, only that subcommand gets the ~80 setting flags
    (what start-up needs: the other subcommands' flags change nothing in what it parses or prints)."""

    def settings_args(name: str, sp: argparse.ArgumentParser) -> None:
        if command is None or command == name:
            _settings_args(sp)

    p = argparse.ArgumentParser(prog="lanying-mcp", description="MCP server for the Lanying IM (蓝莺IM) server API.")
    p.add_argument("--version", action="version", version=f"lanying-mcp {__version__}")
    sub = p.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the MCP server (the default command)")
    serve.add_argument("--transport", choices=("stdio", "sse", "http"), default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="bind address for sse/http (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--stateless", action="store_true", help="stateless streamable HTTP (no sessions)")
    serve.add_argument("--json-response", action="store_true", help="plain JSON responses instead of SSE streams")
    serve.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    settings_args("serve", serve)
    sb = sub.add_parser("sandbox", help="serve the sandbox API on loopback for tests and other clients")
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--port", type=int, default=8030)
    sb.add_argument("--token", help="admin token the sandbox accepts (default: a random one, printed)")
    sb.add_argument("--group-capacity", type=int, default=2000, help="member limit of new groups (default 2000)")
    tools = sub.add_parser("tools", help="list tools")
    tools.add_argument("--toolset", help="only this toolset")
    tools.add_argument("--json", action="store_true", help="JSON with schemas")
    tools.add_argument("--lang", choices=("en", "zh"))
    call = sub.add_parser("call", help="run one tool and print its structured result")
    call.add_argument("tool")
    call.add_argument("--args", default="{}", help="tool arguments as a JSON object")
    call.add_argument("--yes", action="store_true", help="confirm a destructive call (you are the human)")
    call.add_argument(
        "--pick", metavar="PATH", help="print only this part of a successful result, e.g. data.user_id (for scripts)"
    )
    call.add_argument(
        "--sandbox-state",
        metavar="FILE",
        help="with --sandbox: the file the sandbox is kept in between calls "
        "(default: $XDG_STATE_HOME or ~/.local/state, lanying-mcp/sandbox.pickle)",
    )
    call.add_argument("--new-sandbox", action="store_true", help="with --sandbox: start from an empty sandbox")
    settings_args("call", call)
    err = sub.add_parser("errors", help="explain error codes")
    err.add_argument("code", nargs="?")
    doc = sub.add_parser("doctor", help="check the endpoint, app ID, token, clock and one read per toolset")
    doc.add_argument("--json", action="store_true", help="machine-readable output")
    doc.add_argument("--clock-tolerance", type=float, default=300.0, help="allowed clock skew in seconds (default 300)")
    doc.add_argument(
        "--client",
        metavar="HOST",
        help="only report the approval channel HOST would get (claude-desktop, claude-ai, claude-code, cursor, "
        "vscode, chatgpt, ...)",
    )
    settings_args("doctor", doc)
    ch = sub.add_parser("changes", help="export or erase the change journal (what list_changes reads)")
    ch_sub = ch.add_subparsers(dest="action", required=True)
    state_help = "the state file holding the journal (LANYING_STATE_FILE; default: the user's state directory)"
    ex = ch_sub.add_parser("export", help="print the journal as JSON lines, oldest first")
    ex.add_argument("--since", metavar="DATE", help="only entries from this UTC date or time on (ISO)")
    ex.add_argument("--state-file", metavar="FILE", help=state_help)
    er = ch_sub.add_parser("erase", help="delete entries older than a date, or naming a user (a deleted user's data)")
    er.add_argument("--before", metavar="DATE", help="delete entries older than this UTC date or time (ISO)")
    er.add_argument("--user", metavar="USER_ID", help="delete entries that name this user (target or argument)")
    er.add_argument("--state-file", metavar="FILE", help=state_help)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "serve")
    ns = parser(argv[0] if argv[0] in COMMANDS else None).parse_args(argv)
    _log_setup(getattr(ns, "log_level", "WARNING") if ns.command == "serve" else "WARNING")
    handlers = {"serve": cmd_serve, "sandbox": cmd_sandbox, "tools": cmd_tools, "call": cmd_call, "errors": cmd_errors}
    handlers["doctor"] = cmd_doctor
    handlers["changes"] = cmd_changes
    if ns.command in ("serve", "call"):
        gc.disable()  # start-up builds ~150 tools' worth of long-lived objects: no collections meanwhile (build())
    try:
        return handlers[ns.command](ns)
    except SettingsError as exc:
        _say(f"lanying-mcp: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    finally:
        gc.enable()


def _quiet_stdout() -> None:
    """The reader of our output went away (`| head`): what is left of it, and the final flush, go nowhere."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
