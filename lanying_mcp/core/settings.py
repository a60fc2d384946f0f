"""Every setting declared once: its flag, environment variable, default, description and secrecy.

The `Settings` fields below are the only place a setting is written. The command line's flags
(`cli.py`), the README settings table (`tools/gen_docs.py`) and server.json's environment list
(`tools/gen_server.py`) are generated from them, and CI fails when a generated file is stale.

Building a `Settings` never reads the process environment; `Settings.from_env` does, explicitly, so
tests and the per-request copies made with `with_` stay hermetic. Environment values are plain text:
lists are comma-separated, switches are true/false (also 1/0, yes/no, on/off), and an empty variable
counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlparse

from pydantic import SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import SettingsError

ENV_PREFIX = "LANYING_"

APP = "Lanying app (flags override LANYING_* environment variables)"
SELECTION = "tool selection"
SAFETY = "safety"
RESULTS = "results"
APPS = "several apps and replicas"
OPS = "operations (limits, health, metrics, traces)"
OAUTH = "OAuth (a team sharing one HTTP server)"

MiB = 1024 * 1024


@dataclass(frozen=True)
class Opt:
    """How one setting is spelled outside Python; the field's type and default say the rest."""

    help: str  # one line, read in `--help`, the README table and server.json
    group: str  # the `--help` section
    env: str | None = ""  # the variable after LANYING_; "" means the field name upper-cased; None: flag only
    flag: str = ""  # "" means --field-name, or --no-field-name for a switch that defaults to on
    shown: str = ""  # the default as the docs show it, when the bare value would mislead
    placeholder: str = ""  # an example value for registry clients
    required: bool = False  # a real app needs it (not with the sandbox, profiles or per-request credentials)
    stdio: bool = True  # False: only the HTTP transports use it, so server.json (a stdio package) leaves it out
    path: bool = False  # the value names a local file
    choices: tuple[str, ...] = ()


Kind = Literal["text", "secret", "list", "switch", "int", "float"]
_KINDS: dict[Any, Kind] = {
    str: "text",
    SecretStr: "secret",
    tuple[str, ...]: "list",
    bool: "switch",
    int: "int",
    float: "float",
}
_EXPECTED: dict[Kind, str] = {
    "text": "text",
    "secret": "text",
    "list": "a comma-separated list",
    "switch": "true or false",
    "int": "a whole number",
    "float": "a number",
}


@dataclass(frozen=True)
class Declared:
    """One setting as the generators see it: name, spelling, kind and default."""

    name: str
    opt: Opt
    kind: Kind
    default: Any

    @property
    def env(self) -> str | None:
        if self.opt.env is None:
            return None
        return ENV_PREFIX + (self.opt.env or self.name.upper())

    @property
    def flag(self) -> str:
        if self.opt.flag:
            return self.opt.flag
        stem = self.name.replace("_", "-")
        return f"--no-{stem}" if self.kind == "switch" and self.default else f"--{stem}"

    @property
    def secret(self) -> bool:
        return self.kind == "secret"

    @property
    def label(self) -> str:
        """How messages name the setting: the variable and the flag."""
        return f"{self.env} ({self.flag})" if self.env else self.flag

    def default_text(self) -> str:
        """The default as an environment value would spell it; "" when there is none."""
        value: Any = self.default
        if isinstance(value, SecretStr):
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return ",".join(str(v) for v in cast("tuple[object, ...]", value))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


class _EnvSource(PydanticBaseSettingsSource):
    """The declared LANYING_* variables of one mapping (the process environment unless a test passes one)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = DECLARED[field_name].env
        raw = self.env.get(name) if name else None
        value = raw.strip() if isinstance(raw, str) else ""
        return (value or None), field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                found[key] = value
        return found


def _opt(field: FieldInfo) -> Opt:
    return next(m for m in field.metadata if isinstance(m, Opt))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    # fmt: off

    endpoint: Annotated[str, Opt("API endpoint URL, from the console's app info page", APP, env="API_ENDPOINT",
                                 placeholder="https://s-1-3-api.maximtop.cn", required=True)] = ""
    app_id: Annotated[str, Opt("app ID, from the console's app info page", APP, required=True)] = ""
    access_token: Annotated[SecretStr, Opt("admin access token, from the console's Token page", APP,
                                           required=True)] = SecretStr("")
    sandbox: Annotated[bool, Opt("use an in-process sandbox instead of a real app (no credentials needed)", APP,
                                 env=None)] = False
    timeout: Annotated[float, Opt("HTTP timeout to the API, in seconds (0-600)", APP)] = 20.0
    call_deadline: Annotated[float, Opt("seconds one tool call may run in all, not counting a human's answer to "
                                        "a confirmation (0-3600)", APP)] = 60.0
    max_lookups: Annotated[int, Opt("API requests one tool call may make beyond its own request and batches "
                                    "(names, scans, diagnostics)", APP)] = 50
    toolsets: Annotated[tuple[str, ...], Opt("comma list of toolsets, `default` or `all`: what is listed, and all that can run", SELECTION,
                                             shown="everyday tools listed, the rest via `search_tools`")] = ()
    tools: Annotated[tuple[str, ...], Opt("comma list of extra tools to serve", SELECTION)] = ()
    exclude_tools: Annotated[tuple[str, ...], Opt("comma list of tools to leave out", SELECTION)] = ()
    read_only: Annotated[bool, Opt("serve only tools that read; writes are refused by name too", SELECTION)] = False
    discovery: Annotated[bool, Opt("list only the search/schema/call meta-tools; every tool stays reachable",
                                   SELECTION)] = False
    lang: Annotated[str, Opt("language of tool texts", SELECTION, choices=("en", "zh"))] = "en"
    alternate_methods: Annotated[tuple[str, ...], Opt("comma list of tools sent with their documented "
                                                      "alternate HTTP method", SELECTION)] = ()
    confirm: Annotated[bool, Opt("ask a human before destructive calls", SAFETY)] = True
    policy_file: Annotated[str, Opt("operator policy file, TOML or JSON", SAFETY, env="POLICY",
                                    flag="--policy", path=True)] = ""
    audit_log: Annotated[str, Opt("append every write call to this JSON-lines file", SAFETY, path=True)] = ""
    audit_over_http: Annotated[bool, Opt("serve the lanying://audit-log resource over HTTP too (each caller reads "
                                         "only its own app's entries)", SAFETY, stdio=False)] = False
    journal: Annotated[bool, Opt("keep a journal of every write (who, what, which targets, the outcome) in the "
                                 "state file; list_changes reads it", SAFETY)] = True
    journal_days: Annotated[int, Opt("days a change-journal entry is kept", SAFETY)] = 90
    journal_max_entries: Annotated[int, Opt("change-journal entries kept at most (the oldest go first)",
                                            SAFETY)] = 100_000
    upload_roots: Annotated[tuple[str, ...], Opt("comma list of folders local files may be uploaded from",
                                                 SAFETY, shown="none: no local uploads")] = ()
    max_upload_bytes: Annotated[int, Opt("largest local file an upload may send, in bytes", SAFETY,
                                         shown="50 MiB")] = 50 * MiB
    auth_token: Annotated[SecretStr, Opt("bearer token HTTP clients must send; required when --host is not "
                                         "loopback", SAFETY, stdio=False)] = SecretStr("")
    allowed_hosts: Annotated[tuple[str, ...], Opt("comma list of extra Host names the HTTP transports accept "
                                                  "(behind a proxy)", SAFETY, stdio=False)] = ()
    max_sessions: Annotated[int, Opt("open stateful HTTP sessions the server keeps at most", SAFETY,
                                     stdio=False)] = 100
    max_client_sessions: Annotated[int, Opt("open stateful HTTP sessions one client keeps at most (a client: "
                                            "its bearer token and Lanying credentials, else its address)",
                                            SAFETY, stdio=False)] = 10
    session_idle_timeout: Annotated[float, Opt("seconds a stateful HTTP session may stay idle before it is "
                                               "closed", SAFETY, stdio=False)] = 600.0
    session_init_timeout: Annotated[float, Opt("seconds a new HTTP session has to finish its handshake "
                                               "(notifications/initialized) before it is closed", SAFETY,
                                               stdio=False)] = 10.0
    max_response_bytes: Annotated[int, Opt("largest upstream answer read (decompressed), in bytes", RESULTS,
                                           shown="8 MiB")] = 8 * MiB
    reveal_secrets: Annotated[bool, Opt("show secrets the API returns (user tokens, vendor push secrets) "
                                        "instead of masking them", RESULTS)] = False
    names: Annotated[bool, Opt("add usernames and group names beside IDs in results", RESULTS)] = True
    profiles_file: Annotated[str, Opt("named apps in a TOML file; tools then take an `app` argument", APPS,
                                      env="PROFILES", flag="--profiles", path=True)] = ""
    request_credentials: Annotated[bool, Opt("take X-Lanying-App-Id / X-Lanying-Access-Token from each HTTP "
                                             "request", APPS, stdio=False)] = False
    allowed_endpoints: Annotated[tuple[str, ...], Opt("comma list of endpoints a request may pick with "
                                                      "X-Lanying-Endpoint", APPS, stdio=False)] = ()
    state_file: Annotated[str, Opt("SQLite file for state that outlives a call (bulk result links), shared by "
                                   "this user's servers; `:memory:` keeps it in this process", APPS,
                                   shown="state.sqlite3 in the user's state directory", path=True)] = ""
    state_url: Annotated[SecretStr, Opt("Redis URL (redis://, rediss://) of a state store shared by all "
                                        "replicas (bulk result links, the change journal, confirmation "
                                        "nonces); replaces the state file", APPS, shown="none (the state file)",
                                        placeholder="redis://redis-host:6379/0")] = SecretStr("")
    state_key: Annotated[SecretStr, Opt("request-state key shared by all replicas, at least 32 bytes", APPS,
                                        shown="per process", stdio=False)] = SecretStr("")
    calls_per_minute: Annotated[int, Opt("tool calls one caller may make per minute over HTTP, counted in the "
                                         "state store so the limit holds across replicas; 0: no limit (a "
                                         "caller: its OAuth subject, else its bearer and Lanying credentials)",
                                         OPS, stdio=False)] = 600
    health: Annotated[str, Opt("/healthz and /readyz: `on` (behind the MCP endpoint's auth), `off`, or "
                               "`host:port` to serve them there without auth", OPS, stdio=False,
                               placeholder="127.0.0.1:9464")] = "on"
    metrics: Annotated[str, Opt("Prometheus /metrics: `on` (behind the MCP endpoint's auth), `off`, or "
                                "`host:port` to serve it there without auth", OPS, stdio=False,
                                placeholder="127.0.0.1:9464")] = "on"
    otlp_endpoint: Annotated[str, Opt("OTLP/HTTP collector URL to export OpenTelemetry traces to (needs the "
                                      "`otel` extra), e.g. http://collector:4318", OPS,
                                      shown="none: no traces exported")] = ""
    # OAuth 2.1 resource server (oauth.py): on when an issuer is set; replaces --auth-token.
    oauth_issuer: Annotated[str, Opt("OAuth issuer whose access tokens HTTP clients must send (turns OAuth on)",
                                     OAUTH, stdio=False, placeholder="https://login.example.com/realms/team")] = ""
    oauth_audience: Annotated[str, Opt("this server's public MCP URL: tokens' `aud` must name it, and it is the "
                                       "`resource` of the protected-resource metadata", OAUTH, stdio=False,
                                       placeholder="https://mcp.example.com/mcp")] = ""
    oauth_required_scopes: Annotated[tuple[str, ...], Opt("comma list of scopes every request's token must hold",
                                                          OAUTH, stdio=False, shown="the read scope")] = ()
    oauth_read_scope: Annotated[str, Opt("scope that lists and runs reads", OAUTH, stdio=False)] = "lanying:read"
    oauth_write_scope: Annotated[str, Opt("scope that adds writes", OAUTH, stdio=False)] = "lanying:write"
    oauth_admin_scope: Annotated[str, Opt("scope that adds destructive, takeover, secret and mass-reach calls",
                                          OAUTH, stdio=False)] = "lanying:admin"
    oauth_jwks_url: Annotated[str, Opt("JWKS URL of the issuer's signing keys", OAUTH, stdio=False,
                                       shown="from the issuer's metadata")] = ""
    oauth_jwks_cache_seconds: Annotated[int, Opt("seconds the issuer's keys are kept before they are read again",
                                                 OAUTH, stdio=False)] = 300
    oauth_algorithms: Annotated[tuple[str, ...], Opt("comma list of JWT signature algorithms accepted", OAUTH,
                                                     stdio=False)] = ("RS256", "PS256", "ES256", "EdDSA")
    oauth_introspection_url: Annotated[str, Opt("RFC 7662 introspection endpoint, for opaque (non-JWT) tokens",
                                                OAUTH, stdio=False)] = ""
    oauth_client_id: Annotated[str, Opt("client id this server introspects tokens with", OAUTH,
                                        stdio=False)] = ""
    oauth_client_secret: Annotated[SecretStr, Opt("client secret this server introspects tokens with", OAUTH,
                                                  stdio=False)] = SecretStr("")
    oauth_profiles: Annotated[tuple[str, ...], Opt("comma list of CLAIM=VALUE:PROFILE (e.g. groups=support:"
                                                   "support-app, scope=lanying:prod:prod): a token carrying the "
                                                   "value is served by that profile", OAUTH, stdio=False)] = ()
    # approval channels: how a human's yes reaches a confirmed call (approval.py)
    approval: Annotated[str, Opt("how a human confirms a risky call: `auto` (elicitation where the client "
                                 "declares it, else the approval page), `elicitation`, `page`, `askpass`, or "
                                 "`off` (refuse it)", SAFETY, choices=("auto", "elicitation", "page", "askpass",
                                                                       "off"))] = "auto"
    approval_seconds: Annotated[float, Opt("seconds an approval on the page stays open before it expires "
                                           "(1-3600)", SAFETY)] = 300.0
    approval_wait_seconds: Annotated[float, Opt("seconds one await_approval call waits for the human, with "
                                                "progress, before it answers still pending (1-600)",
                                                SAFETY)] = 120.0
    approval_secret_stderr: Annotated[bool, Opt("print the approval page's address with its one-time secret "
                                                "on stderr, for an admin without a browser (an agent that reads "
                                                "the host's logs could then approve)", SAFETY)] = False
    # askpass: a local program that asks the human (askpass.py)
    askpass: Annotated[str, Opt("program that asks the human to confirm a risky call with LANYING_APPROVAL=askpass (SSH_ASKPASS "
                                "style: the question as its argument, exit 0 = yes)", SAFETY, path=True,
                                placeholder="/usr/local/bin/lanying-askpass")] = ""
    askpass_seconds: Annotated[float, Opt("seconds the askpass program has to answer; then it is stopped and "
                                          "the answer is no (1-3600)", SAFETY)] = 120.0
    # fmt: on

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the constructor's arguments: the environment is read by `from_env`, never implicitly."""
        return (init_settings,)

    @field_validator("*", mode="before")
    @classmethod
    def _from_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Environment and flag values arrive as text: split lists, trim the rest."""
        kind = DECLARED[info.field_name].kind if info.field_name else "text"
        if isinstance(value, str):
            return _split(value) if kind == "list" else value.strip()
        if kind == "list" and isinstance(value, list):
            return tuple(cast("list[object]", value))
        return value

    @field_validator("upload_roots")
    @classmethod
    def _absolute(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Upload roots are compared with real paths later; relative ones mean the working directory now."""
        return tuple(os.path.abspath(p) for p in value)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """LANYING_* variables, then the overrides that are not None (the CLI's flags)."""
        values = _EnvSource(cls, os.environ if env is None else env)()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed, validated like the original."""
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(**{**current, **changes})

    def validate(self) -> Settings:  # pyright: ignore[reportIncompatibleMethodOverride] - the pydantic v1 name
        """Check what a real (non-sandbox) server needs; raise SettingsError naming what is wrong."""
        if self.approval not in DECLARED["approval"].opt.choices:
            raise SettingsError(
                f"{DECLARED['approval'].label} must be one of {', '.join(DECLARED['approval'].opt.choices)}, "
                f"got {self.approval!r}"
            )
        if self.lang not in ("en", "zh"):
            raise SettingsError(f"{ENV_PREFIX}LANG must be 'en' or 'zh', got {self.lang!r}")
        if self.timeout <= 0 or self.timeout > 600:
            raise SettingsError(f"{ENV_PREFIX}TIMEOUT must be between 0 and 600 seconds, got {self.timeout}")
        for name in ("max_upload_bytes", "max_response_bytes"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{DECLARED[name].env} must be a positive number of bytes")
        for name in ("journal_days", "journal_max_entries"):
            if getattr(self, name) <= 0:
                raise SettingsError(
                    f"{DECLARED[name].env} must be a positive number; to keep no journal set {ENV_PREFIX}JOURNAL=false"
                )
        self._check_limits()
        self._check_ops()
        self._check_secrets()
        self._check_oauth()
        self._check_askpass()
        if self.sandbox or self.profiles_file:
            return self
        needed = ("API_ENDPOINT",) if self.request_credentials else ("API_ENDPOINT", "APP_ID", "ACCESS_TOKEN")
        missing = [
            ENV_PREFIX + name
            for name, value in (
                ("API_ENDPOINT", self.endpoint),
                ("APP_ID", self.app_id),
                ("ACCESS_TOKEN", self.access_token.get_secret_value()),
            )
            if not value and name in needed
        ]
        if missing:
            raise SettingsError(
                f"missing {', '.join(missing)}: set {'it' if len(missing) == 1 else 'them'} (values from the "
                "Lanying console's app info and Token pages), or run with --sandbox to try the local sandbox"
            )
        url = urlparse(self.endpoint)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise SettingsError(
                f"{ENV_PREFIX}API_ENDPOINT must be an http(s) URL such as https://s-1-3-api.maximtop.cn, got {self.endpoint!r}"
            )
        if any(c.isspace() for c in self.app_id):
            raise SettingsError(f"{ENV_PREFIX}APP_ID must not contain spaces")
        token = self.access_token.get_secret_value()
        if any(c.isspace() or ord(c) < 32 for c in token):
            raise SettingsError(f"{ENV_PREFIX}ACCESS_TOKEN contains spaces or control characters; copy it again")
        return self

    def _check_limits(self) -> None:
        """Per-call and per-session bounds: positive, finite, and within reason."""
        bounds = {
            "call_deadline": (3600, "seconds"),
            "session_idle_timeout": (86400, "seconds"),
            "session_init_timeout": (3600, "seconds"),
            "max_lookups": (10_000, "requests"),
            "max_sessions": (100_000, "sessions"),
            "max_client_sessions": (100_000, "sessions"),
            "approval_seconds": (3600, "seconds"),
            "approval_wait_seconds": (600, "seconds"),
            "askpass_seconds": (3600, "seconds"),
        }
        for name, (most, unit) in bounds.items():
            value = getattr(self, name)
            if not 0 < value <= most:
                raise SettingsError(f"{DECLARED[name].label} must be between 0 and {most:,} {unit}, got {value}")

    def _check_ops(self) -> None:
        """The operations settings: a limit in range, and each endpoint `on`, `off` or a `host:port`."""
        if not 0 <= self.calls_per_minute <= 1_000_000:
            raise SettingsError(
                f"{DECLARED['calls_per_minute'].label} must be between 0 (no limit) and 1,000,000 calls, "
                f"got {self.calls_per_minute}"
            )
        for name in ("health", "metrics"):
            value = getattr(self, name)
            if value not in ("on", "off") and split_address(value) is None:
                raise SettingsError(
                    f"{DECLARED[name].label} must be on, off or a host:port such as 127.0.0.1:9464, got {value!r}"
                )
        url = urlparse(self.otlp_endpoint)
        if self.otlp_endpoint and (url.scheme not in ("http", "https") or not url.netloc):
            raise SettingsError(
                f"{DECLARED['otlp_endpoint'].label} must be an http(s) URL such as http://collector:4318, "
                f"got {self.otlp_endpoint!r}"
            )

    def _check_secrets(self) -> None:
        """Rules on the secrets' values that hold in every mode; rules about masking them belong here too."""
        url = self.state_url.get_secret_value()
        if url and (why := state_url_problem(url)):
            raise SettingsError(f"{ENV_PREFIX}STATE_URL {why}")
        key = self.state_key.get_secret_value()
        if key and len(key.encode()) < 32:
            raise SettingsError(f"{ENV_PREFIX}STATE_KEY must be at least 32 bytes (use the same key on every replica)")

    def _check_oauth(self) -> None:
        """OAuth's settings hang together: an issuer needs an audience, and a server runs one auth mode."""
        if not self.oauth_issuer:
            return
        prefix = ENV_PREFIX + "OAUTH_"
        if self.auth_token.get_secret_value():
            raise SettingsError(
                f"{ENV_PREFIX}AUTH_TOKEN and {prefix}ISSUER are both set: a server runs one mode, a static bearer "
                "token or OAuth; unset one"
            )
        for name, value in (("ISSUER", self.oauth_issuer), ("AUDIENCE", self.oauth_audience)):
            parts = urlparse(value)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise SettingsError(
                    f"{prefix}{name} must be an http(s) URL, e.g. "
                    + ("https://login.example.com/realms/team" if name == "ISSUER" else "https://mcp.example.com/mcp")
                )
        if self.oauth_jwks_cache_seconds < 0:
            raise SettingsError(f"{prefix}JWKS_CACHE_SECONDS must be 0 or more seconds")
        if "none" in {a.lower() for a in self.oauth_algorithms} or not self.oauth_algorithms:
            raise SettingsError(f"{prefix}ALGORITHMS must list signature algorithms, and never 'none'")
        if self.oauth_introspection_url and not (self.oauth_client_id and self.oauth_client_secret.get_secret_value()):
            raise SettingsError(
                f"{prefix}INTROSPECTION_URL needs {prefix}CLIENT_ID and {prefix}CLIENT_SECRET (the credentials this "
                "server introspects with)"
            )
        for entry in self.oauth_profiles:
            claim, _, rest = entry.partition("=")
            value, _, profile = rest.rpartition(":")
            if not (claim and value and profile):
                raise SettingsError(
                    f"{prefix}PROFILES entry {entry!r} must be CLAIM=VALUE:PROFILE, e.g. groups=support:support-app"
                )

    def _check_askpass(self) -> None:
        """The askpass program is named by its full path: a helper found through PATH could be swapped."""
        if self.askpass and not os.path.isabs(os.path.expanduser(self.askpass)):
            raise SettingsError(
                f"{DECLARED['askpass'].label} must be the full path of a program, e.g. /usr/local/bin/lanying-askpass, "
                f"got {self.askpass!r}"
            )


def split_address(value: str) -> tuple[str, int] | None:
    """`host:port` (IPv6 in brackets) as a pair, or None when it is not one."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def state_url_problem(url: str) -> str | None:
    """Why a state-store URL cannot be used (never quoting it: it may hold a password), or None."""
    parts = urlparse(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return "must start with redis://, rediss:// (TLS) or unix:// (a socket path), e.g. redis://redis-host:6379/0"
    if parts.scheme != "unix" and not parts.hostname:
        return "names no host, e.g. redis://redis-host:6379/0"
    try:
        _ = parts.port
    except ValueError:
        return "has a port that is not a number"
    return None


def _declare(name: str, field: FieldInfo) -> Declared:
    return Declared(name, _opt(field), _KINDS[field.annotation], field.default)


DECLARED: dict[str, Declared] = {name: _declare(name, field) for name, field in Settings.model_fields.items()}


def declared() -> tuple[Declared, ...]:
    """Every setting in declaration order (which is also the order of `--help` and the docs)."""
    return tuple(DECLARED.values())


def _explain(exc: ValidationError) -> str:
    """One line naming the variable and what it expects; a secret's value is never repeated."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    setting = DECLARED.get(name)
    if setting is None:
        return f"unknown setting {name!r}; the settings are: {', '.join(DECLARED)}"
    got = "" if setting.secret else f", got {error['input']!r}"
    return f"{setting.label} must be {_EXPECTED[setting.kind]}{got}"
