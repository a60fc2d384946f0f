"""The approval page: where a human says yes or no to a call the client could not ask about.

`GET /approve/{id}?s=SECRET` shows what the confirmation question shows, from the preview's facts
kept with the pending approval: the question, the exact requests (the token masked), the changes
before → after by name, the reach, and the undo statement; with Approve and Decline buttons.
`POST /approve/{id}` records the answer. Both need the one-time secret (403 without it; only its
hash is stored). The POST also needs the form's CSRF token and, when the browser says where the form
came from (Origin, Sec-Fetch-Site), this same origin. The page has no script, loads nothing, and
sends a strict Content-Security-Policy; it is in the server's language.

Over HTTP the routes sit on the server's own app, beside the MCP endpoint: a host's bearer token is
neither needed nor enough there, the secret is the proof. On stdio, `Listener` serves the same routes
on 127.0.0.1 at an ephemeral port, only while this process has approvals pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ..core.json_values import as_object
from .approval import Approvals

log = logging.getLogger("lanying_mcp")

PATH = "/approve/"

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Approve a call — Lanying IM",
        "head": "An assistant asks to run this call",
        "question": "Question",
        "requests": "Exact requests (the access token masked)",
        "more": "more requests",
        "changes": "Changes",
        "reach": "Reach",
        "undo": "Undo",
        "approve": "Approve",
        "decline": "Decline",
        "expires": "This approval expires in {m} min {s} s; it can be used once.",
        "approved": "Approved. The assistant now runs the call, once. You can close this page.",
        "declined": "Declined. Nothing was sent. You can close this page.",
        "done": "This approval was already answered; nothing more happens here.",
        "forbidden": "This page needs the link with its one-time secret, as the server opened it, and a "
        "form sent from it. Nothing was approved.",
        "gone": "This approval expired or was already used. Nothing was sent; ask the assistant to call again.",
    },
    "zh": {
        "title": "审批调用 — 蓝莺IM",
        "head": "助手请求执行以下调用",
        "question": "确认问题",
        "requests": "确切请求(access token已遮蔽)",
        "more": "更多请求",
        "changes": "变更",
        "reach": "触达范围",
        "undo": "撤销",
        "approve": "批准",
        "decline": "拒绝",
        "expires": "此审批将在{m}分{s}秒后过期,且只能使用一次。",
        "approved": "已批准。助手现在会执行该调用一次。可以关闭此页面。",
        "declined": "已拒绝。未发送任何请求。可以关闭此页面。",
        "done": "此审批已作答,此处不会再发生任何操作。",
        "forbidden": "此页面需要服务器打开的带一次性密钥的链接,且表单须从该页面提交。未批准任何操作。",
        "gone": "此审批已过期或已使用。未发送任何请求;请让助手重新调用。",
    },
}


def _headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; img-src 'none'; script-src 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        # The address holds the secret: no other site may see it. `same-origin` rather than `no-referrer`,
        # since under `no-referrer` a browser sends the form's POST with `Origin: null`, which the
        # same-origin check must refuse; the page loads nothing and links nowhere, so its Referer only
        # ever goes back to this server.
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "pre{background:#f4f4f4;padding:.6rem;overflow:auto;white-space:pre-wrap}"
    "button{font-size:1rem;padding:.5rem 1.4rem;margin-right:1rem}"
    ".q{font-size:1.05rem;border-left:4px solid #c60;padding-left:.8rem}"
)


def _page(lang: str, body: str, status: int = 200) -> HTMLResponse:
    t = _TEXT[lang]
    nonce = secrets.token_urlsafe(12)
    doc = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{t["title"]}</title>'
        f'<style nonce="{nonce}">{_STYLE}</style></head><body>{body}</body></html>'
    )
    return HTMLResponse(doc, status_code=status, headers=_headers(nonce))


def _esc(value: Any) -> str:
    if isinstance(value, str):
        return html.escape(value)
    return html.escape(json.dumps(value, ensure_ascii=False, indent=1))


def _target(target: Any) -> str:
    obj = as_object(target)
    if obj is None:
        return _esc(target)
    name = obj.get("name")
    kind, tid = obj.get("kind", ""), obj.get("id", "")
    return _esc(f'{kind} "{name}" (ID {tid})' if name else f"{kind} {tid}")


def render(record: dict[str, Any], lang: str, secret: str, seconds_left: float) -> str:
    """The body of the page: every fact of the question, then the form."""
    t = _TEXT[lang]
    page: dict[str, Any] = record.get("page", {})
    parts = [f"<h1>{t['head']}: <code>{_esc(page.get('tool', record.get('tool', '')))}</code></h1>"]
    parts.append(f"<h2>{t['question']}</h2><p class=q>{_esc(page.get('question') or '')}</p>")
    requests: list[Any] = page.get("requests") or []
    if requests:
        parts.append(f"<h2>{t['requests']}</h2>")
        parts += [f"<pre>{_esc(r)}</pre>" for r in requests]
        more = page.get("more_requests")
        if more:
            parts.append(f"<p>+ {_esc(more.get('count', more))} {t['more']}</p>")
    changes: list[Any] = page.get("changes") or []
    if changes:
        rows: list[str] = []
        for item in changes:
            c = as_object(item)
            if c is not None and "target" in c:
                before, after = c.get("before"), c.get("after")
                rows.append(
                    f"<li>{_target(c['target'])} — {_esc(str(c.get('field', '')))}: "
                    f"{_esc(json.dumps(before, ensure_ascii=False))} → {_esc(json.dumps(after, ensure_ascii=False))}</li>"
                )
            else:
                rows.append(f"<li><pre>{_esc(item)}</pre></li>")
        parts.append(f"<h2>{t['changes']}</h2><ul>{''.join(rows)}</ul>")
        if page.get("changes_summary"):
            parts.append(f"<pre>{_esc(page['changes_summary'])}</pre>")
    if page.get("reach"):
        parts.append(f"<h2>{t['reach']}</h2><pre>{_esc(page['reach'])}</pre>")
    undo = as_object(page.get("undo"))
    if undo is not None:
        parts.append(f"<h2>{t['undo']}</h2><p>{_esc(undo.get('why') or undo.get('how') or '')}</p>")
    left = max(0, int(seconds_left))
    parts.append(f"<p>{t['expires'].format(m=left // 60, s=left % 60)}</p>")
    fields = (
        f'<input type="hidden" name="s" value="{html.escape(secret)}">'
        f'<input type="hidden" name="csrf" value="{html.escape(record["csrf"])}">'
    )
    parts.append(
        f'<form method="post">{fields}<button type="submit" name="decision" value="approve">{t["approve"]}</button>'
        f'<button type="submit" name="decision" value="decline">{t["decline"]}</button></form>'
    )
    return "".join(parts)


def _same_origin(request: Request) -> bool:
    """False when the browser says the form came from another site (Origin or Sec-Fetch-Site)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def routes(approvals: Callable[[], Approvals | None], lang: str, clock: Callable[[], float]) -> list[Route]:
    """GET and POST /approve/{approval_id}."""

    async def show(request: Request) -> HTMLResponse:
        t = _TEXT[lang]
        store = approvals()
        approval_id = request.path_params["approval_id"]
        secret = request.query_params.get("s", "")
        record = await store.for_human(approval_id, secret) if store is not None else None
        if record is None:
            return _page(lang, f"<p>{t['forbidden']}</p>", 403)
        if record.get("status") != "pending":
            return _page(lang, f"<p>{t['done']}</p>")
        return _page(lang, render(record, lang, secret, record["expires"] - clock()))

    async def answer(request: Request) -> HTMLResponse:
        t = _TEXT[lang]
        store = approvals()
        approval_id = request.path_params["approval_id"]
        form = await request.form()
        secret, csrf = str(form.get("s", "")), str(form.get("csrf", ""))
        record = await store.for_human(approval_id, secret) if store is not None else None
        if (
            store is None
            or record is None
            or not _same_origin(request)
            or not csrf
            or not secrets.compare_digest(csrf, str(record.get("csrf", "")))
        ):
            log.info("approval page: a refused answer (no secret, CSRF token or same origin)")
            return _page(lang, f"<p>{t['forbidden']}</p>", 403)
        yes = form.get("decision") == "approve"
        if not await store.decide(approval_id, record, yes):
            return _page(lang, f"<p>{t['done']}</p>")
        log.info("approval %s: the human %s it on the page", approval_id, "approved" if yes else "declined")
        return _page(lang, f"<p>{t['approved' if yes else 'declined']}</p>")

    return [
        Route(PATH + "{approval_id}", show, methods=["GET"]),
        Route(PATH + "{approval_id}", answer, methods=["POST"]),
    ]


class MaskSecret(logging.Filter):
    """Masks the page's one-time secret (`?s=...`) in log lines: over HTTP the server's access log writes
    each request's address, and a log an agent can read must not hold a yes."""

    _SECRET = re.compile(r"([?&]s=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "s=" in message:
            record.msg, record.args = self._SECRET.sub(r"\1[masked]", message), ()
        return True


class Listener:
    """The page on 127.0.0.1 at an ephemeral port, for a server on stdio: started with the first pending
    approval, stopped once this process has none left."""

    def __init__(self, approvals: Approvals, lang: str, clock: Callable[[], float]) -> None:
        self.approvals = approvals
        self.app = Starlette(routes=routes(lambda: approvals, lang, clock))
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.base: str | None = None

    async def ensure(self) -> str:
        """The page's base address (http://127.0.0.1:PORT), starting the listener if it is not running."""
        if self.base is not None and self._task is not None and not self._task.done():
            return self.base
        import uvicorn

        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # the MCP server owns signals
        self._server = server
        self._task = asyncio.get_running_loop().create_task(server.serve())
        while not server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
                raise OSError("the approval page could not start")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self._watch = asyncio.get_running_loop().create_task(self._stop_when_idle())
        return self.base

    async def _stop_when_idle(self) -> None:
        while self.approvals.open_here():
            await asyncio.sleep(1.0)
        await self.stop()

    async def stop(self) -> None:
        server, task = self._server, self._task
        self.base = None
        if server is not None:
            server.should_exit = True
        if task is not None:
            with contextlib.suppress(Exception):
                await task
        self._server = self._task = None
