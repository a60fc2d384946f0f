"""Which Lanying app a call goes to: named profiles, or credentials sent with each HTTP request.

Profiles (`--profiles FILE` / LANYING_PROFILES), for one admin with several apps:

    default = "staging"                      # used when a call names no app

    [profiles.prod]
    endpoint = "https://s-1-3-api.maximtop.cn"
    app_id = "prod_app"
    access_token_env = "LANYING_PROD_TOKEN"  # the token comes from this variable (or access_token = "…")
    read_only = true                         # writes to prod are refused

    [profiles.staging]
    endpoint = "https://s-1-3-api.maximtop.cn"
    app_id = "staging_app"
    access_token_env = "LANYING_STAGING_TOKEN"

With profiles, every tool takes an `app` argument (one of the profile names; the default when
omitted). Per-request credentials (`--request-credentials`, HTTP transports) let one deployment serve
several apps: a request's `X-Lanying-App-Id` and `X-Lanying-Access-Token` headers replace the
configured ones for that request only; `X-Lanying-Endpoint` is honoured only when it is listed in
LANYING_ALLOWED_ENDPOINTS (otherwise a caller could make the server call any URL). A request that
picks an endpoint other than the configured one must bring its own app ID and token: the operator's
admin token is only ever sent to the operator's endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import SecretStr

from ..core.errors import EndpointRefused, SettingsError
from ..core.identity import app_key
from ..core.json_values import as_object
from ..core.settings import Settings

HEADER_APP_ID = "x-lanying-app-id"
HEADER_TOKEN = "x-lanying-access-token"
HEADER_ENDPOINT = "x-lanying-endpoint"


@dataclass(frozen=True)
class App:
    name: str
    endpoint: str
    app_id: str
    access_token: SecretStr
    read_only: bool = False


@dataclass(frozen=True)
class Profiles:
    apps: dict[str, App]
    default: str


def load_profiles(path: str | Path, env: Mapping[str, str] | None = None) -> Profiles:
    import tomllib  # only with a profiles file: start-up without one does not import it

    env = os.environ if env is None else env
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read profiles file {p}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"profiles file {p} is not valid TOML: {exc}") from None
    table = as_object(raw.get("profiles"))
    if not table:
        raise SettingsError(f"profiles file {p} needs at least one [profiles.NAME] table")
    apps = {name: _app(name, body, env) for name, body in table.items()}
    default = raw.get("default", next(iter(apps)))
    if default not in apps:
        raise SettingsError(f"profiles: default {default!r} is not one of {sorted(apps)}")
    return Profiles(apps, default)


def _app(name: str, value: Any, env: Mapping[str, str]) -> App:
    body = as_object(value)  # a TOML table: string keys
    if body is None:
        raise SettingsError(f"profiles.{name} must be a table")
    unknown = set(body) - {"endpoint", "app_id", "access_token", "access_token_env", "read_only"}
    if unknown:
        raise SettingsError(f"profiles.{name}: unknown keys {sorted(unknown)}")
    token = body.get("access_token")
    if "access_token_env" in body:
        token = env.get(str(body["access_token_env"]))
        if not token:
            raise SettingsError(f"profiles.{name}: environment variable {body['access_token_env']} is not set")
    for key, given in (("endpoint", body.get("endpoint")), ("app_id", body.get("app_id")), ("access_token", token)):
        if not isinstance(given, str) or not given:
            raise SettingsError(f"profiles.{name}: {key} is missing")
    endpoint = str(body["endpoint"])
    if urlparse(endpoint).scheme not in ("http", "https"):
        raise SettingsError(f"profiles.{name}: endpoint must be an http(s) URL")
    return App(name, endpoint, str(body["app_id"]), SecretStr(str(token)), bool(body.get("read_only", False)))


def request_credentials(
    headers: Mapping[str, str] | None, allowed_endpoints: tuple[str, ...], configured_endpoint: str = ""
) -> dict[str, str]:
    """Settings overrides taken from one HTTP request's headers (empty when it sends none).

    Raises EndpointRefused for an endpoint outside the allow-list, and for another endpoint than
    `configured_endpoint` when the request does not carry both its own app ID and token.
    """
    if not headers:
        return {}
    lower = {k.lower(): v for k, v in headers.items()}
    out: dict[str, str] = {}
    if lower.get(HEADER_APP_ID, "").strip():
        out["app_id"] = lower[HEADER_APP_ID].strip()
    if lower.get(HEADER_TOKEN, "").strip():
        out["access_token"] = lower[HEADER_TOKEN].strip()
    endpoint = lower.get(HEADER_ENDPOINT, "").strip().rstrip("/")
    if endpoint:
        if endpoint not in {e.rstrip("/") for e in allowed_endpoints}:
            raise EndpointRefused(
                f"endpoint {endpoint!r} is not in LANYING_ALLOWED_ENDPOINTS",
                zh=f"端点 {endpoint!r} 不在LANYING_ALLOWED_ENDPOINTS中",
            )
        if endpoint != configured_endpoint.strip().rstrip("/") and not ("app_id" in out and "access_token" in out):
            raise EndpointRefused(
                f"X-Lanying-Endpoint {endpoint!r} is not the server's configured endpoint: send this app's own "
                "X-Lanying-App-Id and X-Lanying-Access-Token with it (the operator's credentials go only to the "
                "configured endpoint)",
                zh=f"X-Lanying-Endpoint {endpoint!r} 不是服务器配置的端点:请同时发送该应用自己的X-Lanying-App-Id和"
                "X-Lanying-Access-Token(运营者的凭据只会发往配置的端点)",
            )
        out["endpoint"] = endpoint
    return out


def key_of(settings: Settings) -> str:
    """The digest that ties audit and journal entries to one app's credentials."""
    return app_key(settings.endpoint, settings.app_id, settings.access_token.get_secret_value())
