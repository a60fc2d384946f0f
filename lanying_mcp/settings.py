"""One Settings object, read from LANYING_* environment variables; CLI flags override them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

from pydantic import SecretStr

ENV_PREFIX = "LANYING_"


class SettingsError(ValueError):
    """A missing or malformed setting; the message names the variable and what to do."""


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _flag(name: str, value: str | None) -> bool:
    if value is None or value == "":
        return False
    low = value.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{ENV_PREFIX}{name} must be true or false, got {value!r}")


@dataclass(frozen=True)
class Settings:
    endpoint: str = ""
    app_id: str = ""
    access_token: SecretStr = field(default_factory=lambda: SecretStr(""))
    lang: str = "en"
    toolsets: tuple[str, ...] = ()  # empty: "default", or "all" in discovery mode
    tools: tuple[str, ...] = ()
    exclude_tools: tuple[str, ...] = ()
    read_only: bool = False
    discovery: bool = False
    timeout: float = 20.0
    sandbox: bool = False
    # Local files an agent may upload (knowledge documents): only below these folders; none by default.
    upload_roots: tuple[str, ...] = ()
    max_upload_bytes: int = 50 * 1024 * 1024
    # Safety: ask a human before destructive calls (False only by the operator's explicit opt-out).
    confirm: bool = True
    policy_file: str = ""
    audit_log: str = ""
    # HTTP transports: bearer token required from clients (mandatory when binding beyond loopback).
    auth_token: SecretStr = field(default_factory=lambda: SecretStr(""))
    allowed_hosts: tuple[str, ...] = ()
    # Several apps: named profiles, or credentials per HTTP request (see apps.py).
    profiles_file: str = ""
    request_credentials: bool = False
    allowed_endpoints: tuple[str, ...] = ()
    # Upstream answers larger than this (decompressed) are refused, counted while reading.
    max_response_bytes: int = 8 * 1024 * 1024
    # Secrets the API returns (user tokens, vendor push secrets) are masked in results unless revealed.
    reveal_secrets: bool = False
    # Tools sent with their documented alternate method (e.g. DELETE /group/kick instead of POST).
    alternate_methods: tuple[str, ...] = ()
    # Usernames/nicknames beside user IDs and names beside group IDs in results.
    names: bool = True
    # Seals request state across replicas (2026-07-28 multi-round calls); >= 32 bytes, same on every replica.
    state_key: SecretStr = field(default_factory=lambda: SecretStr(""))

    def __post_init__(self) -> None:
        for name in ("access_token", "auth_token", "state_key"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, SecretStr(getattr(self, name)))
        for name in ("toolsets", "tools", "exclude_tools", "upload_roots", "allowed_hosts", "allowed_endpoints"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, _split(value))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value.strip() if isinstance(value, str) else None

        values: dict[str, Any] = {}
        if (v := get("API_ENDPOINT")) is not None:
            values["endpoint"] = v
        if (v := get("APP_ID")) is not None:
            values["app_id"] = v
        if (v := get("ACCESS_TOKEN")) is not None:
            values["access_token"] = SecretStr(v)
        if v := get("LANG"):
            values["lang"] = v
        if v := get("TOOLSETS"):
            values["toolsets"] = _split(v)
        if v := get("TOOLS"):
            values["tools"] = _split(v)
        if v := get("EXCLUDE_TOOLS"):
            values["exclude_tools"] = _split(v)
        if (v := get("READ_ONLY")) is not None:
            values["read_only"] = _flag("READ_ONLY", v)
        if (v := get("DISCOVERY")) is not None:
            values["discovery"] = _flag("DISCOVERY", v)
        if v := get("UPLOAD_ROOTS"):
            values["upload_roots"] = tuple(os.path.abspath(p) for p in _split(v))
        if (v := get("CONFIRM")) is not None:
            values["confirm"] = _flag("CONFIRM", v)
        if v := get("POLICY"):
            values["policy_file"] = v
        if v := get("AUDIT_LOG"):
            values["audit_log"] = v
        if v := get("AUTH_TOKEN"):
            values["auth_token"] = SecretStr(v)
        if v := get("ALLOWED_HOSTS"):
            values["allowed_hosts"] = _split(v)
        if v := get("PROFILES"):
            values["profiles_file"] = v
        if (v := get("REQUEST_CREDENTIALS")) is not None:
            values["request_credentials"] = _flag("REQUEST_CREDENTIALS", v)
        if v := get("ALLOWED_ENDPOINTS"):
            values["allowed_endpoints"] = _split(v)
        if v := get("STATE_KEY"):
            values["state_key"] = SecretStr(v)
        if (v := get("REVEAL_SECRETS")) is not None:
            values["reveal_secrets"] = _flag("REVEAL_SECRETS", v)
        if (v := get("NAMES")) is not None:
            values["names"] = _flag("NAMES", v)
        if v := get("ALTERNATE_METHODS"):
            values["alternate_methods"] = _split(v)
        if v := get("MAX_RESPONSE_BYTES"):
            try:
                values["max_response_bytes"] = int(v)
            except ValueError:
                raise SettingsError(
                    f"{ENV_PREFIX}MAX_RESPONSE_BYTES must be a whole number of bytes, got {v!r}"
                ) from None
        if v := get("TIMEOUT"):
            try:
                values["timeout"] = float(v)
            except ValueError:
                raise SettingsError(f"{ENV_PREFIX}TIMEOUT must be a number of seconds, got {v!r}") from None
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("access_token", "auth_token", "state_key") and isinstance(value, str):
                value = SecretStr(value)
            values[key] = value
        return cls(**values)

    @property
    def effective_toolsets(self) -> tuple[str, ...]:
        return self.toolsets or (("all",) if self.discovery else ("default",))

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self) -> Settings:
        """Check what a real (non-sandbox) server needs; raise SettingsError naming what is wrong."""
        if self.lang not in ("en", "zh"):
            raise SettingsError(f"{ENV_PREFIX}LANG must be 'en' or 'zh', got {self.lang!r}")
        if self.timeout <= 0 or self.timeout > 600:
            raise SettingsError(f"{ENV_PREFIX}TIMEOUT must be between 0 and 600 seconds, got {self.timeout}")
        key = self.state_key.get_secret_value()
        if key and len(key.encode()) < 32:
            raise SettingsError(f"{ENV_PREFIX}STATE_KEY must be at least 32 bytes (use the same key on every replica)")
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
