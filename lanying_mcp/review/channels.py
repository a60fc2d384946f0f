"""Hosts and the approval channel each would get: data from the hosts' public docs and issues, not tested here.

A risky call needs a human's yes, and the channel that carries the question depends on the host:
- `elicitation`: the host shows our question as a form (it must declare form elicitation);
- `page`: the approval page, opened in the admin's browser (stdio) or behind the team's login (HTTP);
- `askpass`: a local program the operator names (`LANYING_ASKPASS`, see askpass.py);
- none: the call answers `confirmation_required` and nothing reaches the API.

`LANYING_APPROVAL` picks it: `auto` (elicitation where the client declares it, else the page),
`elicitation`, `page`, `askpass` or `off`. A host that declares elicitation but does not show it (it
cancels at once, or never answers) gets elicitation under `auto`: that is why the operator can force
`page` or `askpass`.

`HOSTS` is what public sources say about each host's elicitation, with the sources named. Hosts change
from one release to the next; `lanying-mcp doctor --client <host>` reports the channel a host would get with
the current settings, and the README's host table is generated from this module (tools/gen_docs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.settings import Settings
from .approval import Channel as Via
from .approval import channel_for

Channel = Literal["elicitation", "page", "askpass", "none"]
APPROVALS = ("auto", "elicitation", "page", "askpass", "off")

NOT_TESTED = "From the hosts' public docs and issues; not tested here."


@dataclass(frozen=True)
class Host:
    """One MCP host, as its public docs and issues describe its elicitation."""

    key: str  # what `doctor --client` takes
    name: str
    connects: str  # how it reaches an MCP server
    declares: bool | None  # declares form elicitation in its capabilities (None: no public statement found)
    renders: bool | None  # shows the form when asked (None: unknown)
    fact: str  # one line, for the README and the doctor
    sources: tuple[str, ...]  # public issues and docs the fact rests on


HOSTS: tuple[Host, ...] = (
    Host(
        "claude-desktop",
        "Claude Desktop",
        "stdio (local servers)",
        False,
        False,
        "no elicitation in the desktop chat; requested, not shipped",
        ("anthropics/claude-code#41347", "anthropics/claude-code#41110"),
    ),
    Host(
        "claude-ai",
        "claude.ai",
        "HTTP (remote connectors)",
        False,
        False,
        "declares no `elicitation` capability; the request is open",
        ("anthropics/claude-ai-mcp#153",),
    ),
    Host(
        "claude-code",
        "Claude Code (terminal)",
        "stdio or HTTP",
        True,
        True,
        "form elicitation since 2.1.76; some versions were reported to decline or cancel without showing it",
        (
            "modelcontextprotocol/modelcontextprotocol#2398",
            "anthropics/claude-code#62319",
            "anthropics/claude-code#84207",
        ),
    ),
    Host(
        "claude-code-desktop",
        "Claude Code inside the Claude desktop app",
        "stdio or HTTP",
        True,
        False,
        "declares elicitation but does not show it: the call waits until the host times it out",
        ("OctopusDeploy/mcp-server#103", "anthropics/claude-code#88901"),
    ),
    Host(
        "cursor",
        "Cursor",
        "stdio or HTTP",
        True,
        True,
        "form elicitation since Cursor 1.5",
        ("apify/mcp-client-capabilities#17", "modelcontextprotocol/modelcontextprotocol#1396"),
    ),
    Host(
        "vscode",
        "VS Code (GitHub Copilot chat)",
        "stdio or HTTP",
        True,
        True,
        "form elicitation since VS Code 1.102",
        ("code.visualstudio.com/updates/v1_102", "modelcontextprotocol/modelcontextprotocol#839"),
    ),
    Host(
        "chatgpt",
        "ChatGPT (developer mode connectors)",
        "HTTP only (no local stdio servers)",
        None,
        None,
        "no public statement on elicitation found; treated as declaring none",
        ("canimcp.dev/client/chatgpt",),
    ),
)

BY_KEY = {h.key: h for h in HOSTS}


def host(key: str) -> Host | None:
    """The host by its key, forgiving case, spaces and dots (`Claude Desktop`, `claude.ai`, `VS Code`)."""
    wanted = "".join(c for c in key.lower() if c.isalnum())
    return next((h for h in HOSTS if h.key.replace("-", "") == wanted), None)


def approval(settings: Settings) -> str:
    """The operator's LANYING_APPROVAL (`auto` for a value the settings would refuse)."""
    value = str(settings.approval or "auto")
    return value if value in APPROVALS else "auto"


def channel(declares: bool, settings: Settings) -> tuple[Channel, str]:
    """The channel a client that does (or does not) declare form elicitation gets, and why, in one line.

    The choice is the gate's own (`approval.channel_for`); this adds what the gate checks per call."""
    if not settings.confirm:
        return "none", "consent is off (--no-confirm): risky calls run without asking anyone"
    chosen = approval(settings)
    via = channel_for(chosen, declares)
    if via is Via.OFF:
        if chosen == "elicitation":
            return "none", "LANYING_APPROVAL=elicitation and the client cannot ask: confirmation_required"
        return "none", "LANYING_APPROVAL=off: risky calls answer confirmation_required"
    if via is Via.ASKPASS:
        if not settings.askpass:
            return "none", "LANYING_APPROVAL=askpass but LANYING_ASKPASS names no program: confirmation_required"
        return "askpass", f"LANYING_APPROVAL=askpass: {settings.askpass} asks on the machine running this server"
    if via is Via.PAGE:
        if chosen == "page":
            return "page", "LANYING_APPROVAL=page: the approval page"
        return "page", f"LANYING_APPROVAL={chosen} and the client declares no elicitation: the approval page"
    return "elicitation", f"LANYING_APPROVAL={chosen}: the client declares form elicitation"


def for_host(h: Host, settings: Settings) -> tuple[Channel, str]:
    """The channel `h` would get with these settings, and a line on why and on what to watch for."""
    got, why = channel(bool(h.declares), settings)
    if got == "elicitation" and h.renders is False:
        why += (
            "; this host is reported not to show it, so set LANYING_APPROVAL=page "
            "(or askpass, with LANYING_ASKPASS) for it"
        )
    if got == "askpass" and not h.connects.startswith("stdio"):
        why += "; this host reaches remote servers, so the helper must run where the server runs"
    return got, why


def auto_channel(h: Host) -> str:
    """What `auto` (the default) gives the host, as the README table shows it."""
    if h.declares is None:
        return "page (elicitation if it declares it)"
    if h.declares and h.renders is False:
        return "elicitation, which it does not show: force `page` or `askpass`"
    return "elicitation" if h.declares else "page"


def table() -> str:
    """The README's host table (tools/gen_docs.py writes it between its markers)."""

    def cell(value: bool | None) -> str:
        return {True: "yes", False: "no", None: "unknown"}[value]

    lines = [
        "| host | connects | declares elicitation | shows it | `auto` gives | what public sources say |",
        "|---|---|:-:|:-:|---|---|",
    ]
    for h in HOSTS:
        sources = ", ".join(h.sources)
        lines.append(
            f"| {h.name} (`{h.key}`) | {h.connects} | {cell(h.declares)} | {cell(h.renders)} | {auto_channel(h)} "
            f"| {h.fact} ({sources}) |"
        )
    lines += ["", f"{NOT_TESTED} `lanying-mcp doctor --client <host>` shows what a host gets with your settings."]
    return "\n".join(lines)
