"""Secret masking: every transformed copy of the token, in text, nested structures, logs and the audit log."""

from __future__ import annotations

import json
import logging
import os

import pytest

from lanying_mcp.core.errors import AuditUnavailable, SettingsError
from lanying_mcp.safety.audit import AuditLog
from lanying_mcp.safety.redact import MASK, Redactor, check_maskable, install_log_filter

TOKEN = 'Yq7"kP2\\xR9mT4-vB8nL3'


def copies(token: str) -> dict[str, str]:
    return {
        "exact": token,
        "upper": token.upper(),
        "lower": token.lower(),
        "swapped": token.swapcase(),
        "cut first": token[1:],
        "cut last": token[:-1],
        "spaced": " ".join(token),
        "dashed": "-".join(token),
        "dotted and upper": ".".join(token.upper()),
        "json": json.dumps(token),
        "json twice": json.dumps(json.dumps(token)),
        "json of spaced": json.dumps(" ".join(token)),
        "newline separated": "\n".join(token),
        "escaped newlines": json.dumps("\n".join(token)),
    }


@pytest.mark.parametrize("kind", list(copies(TOKEN)))
def test_every_transformed_copy_is_masked_in_text(kind):
    redactor = Redactor([TOKEN])
    copy = copies(TOKEN)[kind]
    out = redactor.text(f"the API said: {copy} (end)")
    assert MASK in out and out.startswith("the API said: ") and out.endswith(" (end)")
    significant = [c.lower() for c in TOKEN if c.isalnum()]
    leftover = [c.lower() for c in out if c.isalnum()]
    # No run of 4 of the token's letters/digits survives.
    runs = {"".join(significant[i : i + 4]) for i in range(len(significant) - 3)}
    assert not any(run in "".join(leftover) for run in runs), out


def test_nested_structures_are_cleaned_everywhere_keys_included():
    redactor = Redactor([TOKEN])
    value = {
        "data": [{"note": f"token={TOKEN.upper()}"}, (1, TOKEN[1:])],
        TOKEN: {"deep": [[[{"x": " ".join(TOKEN)}]]]},
        "n": 5,
        "ok": True,
        "none": None,
    }
    out = redactor.clean(value)
    text = json.dumps(out)
    assert "R9mT4" not in text and "r9mt4" not in text.lower().replace(" ", "")
    assert out["n"] == 5 and out["ok"] is True and out["none"] is None
    assert MASK in out  # the key itself
    assert value["data"][0]["note"].endswith(TOKEN.upper())  # a new object: the input is untouched


def test_ordinary_text_is_left_alone():
    redactor = Redactor(["e2e-admin-token-7f3a", "wire-test-token"])
    prose = "Use an admin token from the console; retest the token; wire test; e2e admin tokens 7f"
    assert redactor.text(prose) == prose
    big = json.dumps({f"k{i}": f"value {i}" for i in range(2000)})  # the fast path for long strings
    assert redactor.text(big) == big
    assert redactor.text(big + "e2e-admin-token-7f3a") == big + MASK


def test_log_lines_are_scrubbed_message_args_and_traceback(caplog):
    redactor = Redactor([TOKEN])
    install_log_filter(redactor)
    log = logging.getLogger("lanying_mcp.test_redact")
    with caplog.at_level(logging.INFO, logger="lanying_mcp.test_redact"):
        log.info("sent %s to %s", TOKEN.upper(), "api")
        try:
            raise ValueError(f"bad token {' '.join(TOKEN)}")
        except ValueError:
            log.exception("failed with %r", {"t": TOKEN[:-1]})
    text = caplog.text
    assert "sent [redacted] to api" in text
    assert "R9mT4" not in text.replace(" ", "") and "r9mt4" not in text.lower().replace(" ", "")
    assert "ValueError: bad token [redacted]" in text
    install_log_filter(Redactor([]))


@pytest.mark.parametrize("token", ["short", "a-b-c-d-e-f-g", "12345678"])
def test_a_token_too_short_to_mask_is_refused(token):
    with pytest.raises(SettingsError, match="at least 10 are needed"):
        check_maskable(token)


def test_a_long_enough_token_is_accepted():
    check_maskable("wire-test-token")
    check_maskable("")  # no token: nothing to mask (the sandbox, per-request credentials)


def test_audit_entries_are_scrubbed_and_writes_fail_closed(tmp_path, monkeypatch):
    path = tmp_path / "audit" / "audit.jsonl"
    audit = AuditLog(path, redactor=Redactor([TOKEN]))
    entry_id = audit.begin("set_user_nickname", "POST /user/update", {"nick_name": TOKEN.upper(), "password": "x"})
    audit.finish(entry_id, "set_user_nickname", "POST /user/update", {}, True, note=f"echo {TOKEN}")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["intent", "ok"]
    assert lines[0]["id"] == lines[1]["id"] == entry_id
    assert lines[0]["arguments"] == {"nick_name": MASK, "password": "[redacted]"}
    assert lines[1]["note"] == f"echo {MASK}"

    # The file becomes unwritable after start-up: the intent cannot be written, so the write is refused.
    if os.geteuid() != 0:
        path.chmod(0o400)
        with pytest.raises(AuditUnavailable) as info:
            audit.begin("set_user_nickname", "POST /user/update", {})
        path.chmod(0o600)
        assert info.value.code == "audit_unavailable" and "NOT made" in info.value.message
        assert str(path) in info.value.message and info.value.may_have_applied is False

    # A full disk.
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(AuditUnavailable, match="No space left on device"):
        audit.begin("delete_user", "POST /user/delete", {})
    audit.finish("x", "delete_user", "POST /user/delete", {}, True)  # after the write: never raises


def test_audit_unavailable_is_explained_in_both_languages():
    from lanying_mcp.core.error_text import describe, paragraph

    exc = AuditUnavailable("/var/log/lanying/audit.jsonl", "Permission denied")
    en, zh = describe(exc, "en"), describe(exc, "zh")
    assert "LANYING_AUDIT_LOG" in en["hint"] and not en["retryable"]
    assert "未执行" in zh["message"] and "LANYING_AUDIT_LOG" in zh["hint"]
    assert "下一步" in paragraph("set_user_nickname", zh)
