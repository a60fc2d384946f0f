"""Settings: one declaration per setting, read from the environment and flags, errors naming the variable."""

from __future__ import annotations

import os

import pytest
from pydantic import SecretStr

from lanying_mcp.cli import parser
from lanying_mcp.core.errors import SettingsError
from lanying_mcp.core.settings import ENV_PREFIX, Settings, declared

REAL = {"LANYING_API_ENDPOINT": "https://api.example", "LANYING_APP_ID": "app", "LANYING_ACCESS_TOKEN": "tok"}

# Every variable and flag spelled as users already write them: renaming one breaks their config.
SPELLINGS = {
    "endpoint": ("LANYING_API_ENDPOINT", "--endpoint"),
    "app_id": ("LANYING_APP_ID", "--app-id"),
    "access_token": ("LANYING_ACCESS_TOKEN", "--access-token"),
    "sandbox": (None, "--sandbox"),
    "timeout": ("LANYING_TIMEOUT", "--timeout"),
    "call_deadline": ("LANYING_CALL_DEADLINE", "--call-deadline"),
    "max_lookups": ("LANYING_MAX_LOOKUPS", "--max-lookups"),
    "toolsets": ("LANYING_TOOLSETS", "--toolsets"),
    "tools": ("LANYING_TOOLS", "--tools"),
    "exclude_tools": ("LANYING_EXCLUDE_TOOLS", "--exclude-tools"),
    "read_only": ("LANYING_READ_ONLY", "--read-only"),
    "discovery": ("LANYING_DISCOVERY", "--discovery"),
    "lang": ("LANYING_LANG", "--lang"),
    "alternate_methods": ("LANYING_ALTERNATE_METHODS", "--alternate-methods"),
    "confirm": ("LANYING_CONFIRM", "--no-confirm"),
    "policy_file": ("LANYING_POLICY", "--policy"),
    "audit_log": ("LANYING_AUDIT_LOG", "--audit-log"),
    "audit_over_http": ("LANYING_AUDIT_OVER_HTTP", "--audit-over-http"),
    "journal": ("LANYING_JOURNAL", "--no-journal"),
    "journal_days": ("LANYING_JOURNAL_DAYS", "--journal-days"),
    "journal_max_entries": ("LANYING_JOURNAL_MAX_ENTRIES", "--journal-max-entries"),
    "upload_roots": ("LANYING_UPLOAD_ROOTS", "--upload-roots"),
    "max_upload_bytes": ("LANYING_MAX_UPLOAD_BYTES", "--max-upload-bytes"),
    "auth_token": ("LANYING_AUTH_TOKEN", "--auth-token"),
    "allowed_hosts": ("LANYING_ALLOWED_HOSTS", "--allowed-hosts"),
    "max_sessions": ("LANYING_MAX_SESSIONS", "--max-sessions"),
    "max_client_sessions": ("LANYING_MAX_CLIENT_SESSIONS", "--max-client-sessions"),
    "session_idle_timeout": ("LANYING_SESSION_IDLE_TIMEOUT", "--session-idle-timeout"),
    "session_init_timeout": ("LANYING_SESSION_INIT_TIMEOUT", "--session-init-timeout"),
    "max_response_bytes": ("LANYING_MAX_RESPONSE_BYTES", "--max-response-bytes"),
    "reveal_secrets": ("LANYING_REVEAL_SECRETS", "--reveal-secrets"),
    "names": ("LANYING_NAMES", "--no-names"),
    "profiles_file": ("LANYING_PROFILES", "--profiles"),
    "request_credentials": ("LANYING_REQUEST_CREDENTIALS", "--request-credentials"),
    "allowed_endpoints": ("LANYING_ALLOWED_ENDPOINTS", "--allowed-endpoints"),
    "state_file": ("LANYING_STATE_FILE", "--state-file"),
    "state_url": ("LANYING_STATE_URL", "--state-url"),
    "state_key": ("LANYING_STATE_KEY", "--state-key"),
    "calls_per_minute": ("LANYING_CALLS_PER_MINUTE", "--calls-per-minute"),
    "health": ("LANYING_HEALTH", "--health"),
    "metrics": ("LANYING_METRICS", "--metrics"),
    "otlp_endpoint": ("LANYING_OTLP_ENDPOINT", "--otlp-endpoint"),
    "oauth_issuer": ("LANYING_OAUTH_ISSUER", "--oauth-issuer"),
    "oauth_audience": ("LANYING_OAUTH_AUDIENCE", "--oauth-audience"),
    "oauth_required_scopes": ("LANYING_OAUTH_REQUIRED_SCOPES", "--oauth-required-scopes"),
    "oauth_read_scope": ("LANYING_OAUTH_READ_SCOPE", "--oauth-read-scope"),
    "oauth_write_scope": ("LANYING_OAUTH_WRITE_SCOPE", "--oauth-write-scope"),
    "oauth_admin_scope": ("LANYING_OAUTH_ADMIN_SCOPE", "--oauth-admin-scope"),
    "oauth_jwks_url": ("LANYING_OAUTH_JWKS_URL", "--oauth-jwks-url"),
    "oauth_jwks_cache_seconds": ("LANYING_OAUTH_JWKS_CACHE_SECONDS", "--oauth-jwks-cache-seconds"),
    "oauth_algorithms": ("LANYING_OAUTH_ALGORITHMS", "--oauth-algorithms"),
    "oauth_introspection_url": ("LANYING_OAUTH_INTROSPECTION_URL", "--oauth-introspection-url"),
    "oauth_client_id": ("LANYING_OAUTH_CLIENT_ID", "--oauth-client-id"),
    "oauth_client_secret": ("LANYING_OAUTH_CLIENT_SECRET", "--oauth-client-secret"),
    "oauth_profiles": ("LANYING_OAUTH_PROFILES", "--oauth-profiles"),
    "approval": ("LANYING_APPROVAL", "--approval"),
    "approval_seconds": ("LANYING_APPROVAL_SECONDS", "--approval-seconds"),
    "approval_wait_seconds": ("LANYING_APPROVAL_WAIT_SECONDS", "--approval-wait-seconds"),
    "approval_secret_stderr": ("LANYING_APPROVAL_SECRET_STDERR", "--approval-secret-stderr"),
    "askpass": ("LANYING_ASKPASS", "--askpass"),
    "askpass_seconds": ("LANYING_ASKPASS_SECONDS", "--askpass-seconds"),
}


def test_every_setting_is_declared_with_its_known_spellings():
    assert {s.name: (s.env, s.flag) for s in declared()} == SPELLINGS


@pytest.mark.parametrize("setting", declared(), ids=lambda s: s.name)
def test_declaration_is_complete(setting):
    assert setting.opt.help and setting.opt.group
    assert setting.env is None or setting.env.startswith(ENV_PREFIX)
    assert setting.secret == (
        setting.name in ("access_token", "auth_token", "state_url", "state_key", "oauth_client_secret")
    )


@pytest.mark.parametrize(
    ("env", "attribute", "expected"),
    [
        ({"LANYING_API_ENDPOINT": " https://x.example "}, "endpoint", "https://x.example"),
        ({"LANYING_TOOLSETS": "users, groups,,"}, "toolsets", ("users", "groups")),
        ({"LANYING_TIMEOUT": "3.5"}, "timeout", 3.5),
        ({"LANYING_READ_ONLY": "yes"}, "read_only", True),
        ({"LANYING_CONFIRM": "false"}, "confirm", False),
        ({"LANYING_CONFIRM": ""}, "confirm", True),  # empty is unset: never a silent opt-out
        ({"LANYING_NAMES": "0"}, "names", False),
        ({"LANYING_MAX_RESPONSE_BYTES": "1024"}, "max_response_bytes", 1024),
        ({"LANYING_POLICY": "p.toml"}, "policy_file", "p.toml"),
        ({"LANYING_PROFILES": "apps.toml"}, "profiles_file", "apps.toml"),
        ({"LANYING_ALTERNATE_METHODS": "kick_group_members"}, "alternate_methods", ("kick_group_members",)),
        ({"LANYING_SANDBOX": "true"}, "sandbox", False),  # the sandbox is a flag only
        ({"LANYING_ENDPOINT": "https://x.example"}, "endpoint", ""),  # only the declared name counts
    ],
)
def test_environment_values(env, attribute, expected):
    assert getattr(Settings.from_env(env), attribute) == expected


def test_upload_roots_become_absolute():
    settings = Settings.from_env({"LANYING_UPLOAD_ROOTS": "docs,/srv/files"})
    assert settings.upload_roots == (os.path.abspath("docs"), "/srv/files")


def test_secrets_are_secret_and_never_printed():
    settings = Settings.from_env({**REAL, "LANYING_ACCESS_TOKEN": "admin-canary"}, auth_token="bearer-canary")
    assert isinstance(settings.access_token, SecretStr) and settings.access_token.get_secret_value() == "admin-canary"
    assert "canary" not in repr(settings) and "canary" not in str(settings)


def test_overrides_win_and_none_means_not_given():
    settings = Settings.from_env({**REAL, "LANYING_LANG": "zh"}, lang=None, app_id="other")
    assert (settings.lang, settings.app_id) == ("zh", "other")


def test_construction_never_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("LANYING_APP_ID", "from-env")
    assert Settings().app_id == "" and Settings.from_env().app_id == "from-env"


def test_with_validates_and_keeps_the_rest():
    base = Settings.from_env(REAL)
    changed = base.with_(access_token="new", toolsets="a,b")
    assert changed.access_token.get_secret_value() == "new" and changed.toolsets == ("a", "b")
    assert changed.endpoint == base.endpoint and base.access_token.get_secret_value() == "tok"
    with pytest.raises(SettingsError, match="LANYING_TIMEOUT"):
        base.with_(timeout="soon")


def test_settings_are_frozen_and_hashable():
    settings = Settings()
    with pytest.raises(ValueError):
        settings.lang = "zh"  # type: ignore[misc]
    assert hash(settings) == hash(Settings())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LANYING_READ_ONLY": "maybe"}, "LANYING_READ_ONLY (--read-only) must be true or false, got 'maybe'"),
        ({"LANYING_TIMEOUT": "soon"}, "LANYING_TIMEOUT (--timeout) must be a number, got 'soon'"),
        ({"LANYING_MAX_UPLOAD_BYTES": "1e3"}, "LANYING_MAX_UPLOAD_BYTES (--max-upload-bytes) must be a whole number"),
    ],
)
def test_malformed_values_name_the_variable_on_one_line(env, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_unknown_setting_is_refused():
    with pytest.raises(SettingsError, match="unknown setting 'app'"):
        Settings(app="x")


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"lang": "fr"}, "LANYING_LANG"),
        ({"timeout": 0}, "LANYING_TIMEOUT"),
        ({"timeout": 601}, "LANYING_TIMEOUT"),
        ({"max_response_bytes": 0}, "LANYING_MAX_RESPONSE_BYTES"),
        ({"state_key": "short"}, "LANYING_STATE_KEY"),
        ({"endpoint": "not a url"}, "LANYING_API_ENDPOINT"),
        ({"app_id": "a b"}, "LANYING_APP_ID"),
        ({"access_token": "to ken"}, "LANYING_ACCESS_TOKEN"),
        ({"app_id": ""}, "missing LANYING_APP_ID"),
    ],
)
def test_validate_names_what_is_wrong(changes, word):
    with pytest.raises(SettingsError, match=word):
        Settings.from_env(REAL, **changes).validate()


@pytest.mark.parametrize(
    "settings",
    [
        Settings(sandbox=True),
        Settings(profiles_file="apps.toml"),
        Settings(endpoint="https://api.example", request_credentials=True),
        Settings.from_env(REAL),
    ],
    ids=["sandbox", "profiles", "request-credentials", "real-app"],
)
def test_validate_accepts_each_complete_mode(settings):
    assert settings.validate() is settings


def _cli(*args: str) -> Settings:
    from lanying_mcp.cli import _settings

    return _settings(parser().parse_args(["serve", *args]))


def test_flags_are_generated_and_override_the_environment(monkeypatch):
    monkeypatch.setenv("LANYING_TOOLSETS", "users")
    monkeypatch.setenv("LANYING_CONFIRM", "true")
    settings = _cli("--toolsets", "groups,push", "--no-confirm", "--no-names", "--read-only", "--policy", "p.toml")
    assert settings.toolsets == ("groups", "push") and settings.policy_file == "p.toml"
    assert (settings.confirm, settings.names, settings.read_only) == (False, False, True)
    untouched = _cli()
    assert untouched.toolsets == ("users",) and untouched.confirm is True and untouched.names is True


def test_a_bad_flag_value_names_the_flag():
    with pytest.raises(SettingsError, match=r"\(--max-response-bytes\) must be a whole number"):
        _cli("--max-response-bytes", "lots")


def test_help_shows_each_variable_and_default():
    text = parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    flat = " ".join(text.split())
    for setting in declared():
        assert setting.flag in flat
        if setting.env:
            assert setting.env in flat
    assert "LANYING_CONFIRM=false" in flat and "default: 20" in flat


def test_a_malformed_secret_is_not_repeated():
    with pytest.raises(SettingsError) as caught:
        Settings(access_token=["secret-canary"])
    assert str(caught.value) == "LANYING_ACCESS_TOKEN (--access-token) must be text"
