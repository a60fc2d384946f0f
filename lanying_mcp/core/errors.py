"""Everything a failed call can be: the package's exceptions.

Exception tree (all raised by `client.py` or the dispatcher, all caught at the one boundary):

    LanyingError                 base; carries `code` (int Lanying code or a string class) and `message`
    ├── ApiError                 the API answered `{code != 200, message}` (usually with HTTP 200)
    ├── HttpStatusError          HTTP 4xx/5xx without a Lanying envelope
    ├── TransportError           the request did not complete: `timeout`, `connection_error`
    ├── InvalidResponse          the body was not the JSON envelope we expect
    │   └── ResponseTooLarge     the body grew past LANYING_MAX_RESPONSE_BYTES while being read
    ├── ArgumentError            the tool's arguments failed validation before any request was sent
    ├── NotAllowed               refused by this server's own configuration
    │   ├── EndpointRefused      a request's endpoint that is not allowed for its credentials (apps.py)
    │   └── ScopeMissing         the OAuth token lacks the scope this exact call needs (scopes.py)
    ├── LookupCapReached         a call needed more look-up requests than LANYING_MAX_LOOKUPS allows
    ├── DeadlineExceeded         a call ran longer than LANYING_CALL_DEADLINE
    ├── RateLimited              a caller made more calls in a minute than LANYING_CALLS_PER_MINUTE allows
    ├── AuditUnavailable         a write refused because its audit entry could not be written first
    └── JournalUnavailable       a write refused because its change-journal entry could not be written first

Outside the tree, failures that are not a call's: `SettingsError` (a missing or malformed setting, at
start-up or per request) and `StateError` (the state store cannot be used).

A `LanyingError` is immutable once made: every attribute is given to its constructor, and a layer that
learns more about a failure (that a write may have been applied, the key that makes a retried send a
no-op) raises a changed copy (`with_applied`, `with_dedup`, `with_prefix`) from the original.
`error_text.py` turns any of them into what the model reads; `error_codes.py` holds what each code means.
"""

from __future__ import annotations

import math
from typing import Any, Self

from .error_codes import CODES


class LanyingError(Exception):
    """A failed call. Subclasses set their own attributes before calling `LanyingError.__init__`, which
    seals the instance: setting or deleting an attribute afterwards raises AttributeError."""

    code: int | str = "error"
    retryable = False
    # None: unknown; True: the request reached the service and may have been applied; False: nothing was sent.
    may_have_applied: bool | None = None
    # The send's de-duplication argument and its value (an operation's `dedup_key`): calling again with it
    # delivers the send at most once, so a send that may have been delivered can be retried safely.
    dedup: tuple[str, Any] | None = None

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        details: Any = None,
        zh: str | None = None,
        retryable: bool | None = None,
        may_have_applied: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = zh  # the same message in Chinese, for messages written by this server
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        if may_have_applied is not None:
            self.may_have_applied = may_have_applied
        self.details = details
        self._sealed = True

    def __setattr__(self, name: str, value: Any) -> None:
        self._refuse_change(name)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        self._refuse_change(name)
        super().__delattr__(name)

    def _refuse_change(self, name: str) -> None:
        # Python's own bookkeeping (__traceback__, __notes__, ...) stays possible.
        if self.__dict__.get("_sealed") and not (name.startswith("__") and name.endswith("__")):
            raise AttributeError(
                f"{type(self).__name__} cannot change after it is made ({name}); raise a changed copy instead"
            )

    def _copy(self, **changes: Any) -> Self:
        """The same failure with `changes`, as a new exception (the original stays as it was raised)."""
        message = changes.get("message", self.message)
        new = type(self).__new__(type(self), message)
        super(LanyingError, new).__init__(message)  # what LanyingError.__init__ hands its bases
        new.__dict__.update(self.__dict__, **changes)
        return new

    def with_applied(self, may_have_applied: bool) -> Self:
        """The same failure, saying whether its request may have been applied."""
        return self._copy(may_have_applied=may_have_applied)

    def with_dedup(self, argument: str, value: Any) -> Self:
        """The same failure of a send that `argument`=`value` de-duplicates (its operation's `dedup_key`)."""
        return self._copy(dedup=(argument, value))

    def with_prefix(self, en: str, zh: str) -> Self:
        """The same failure, its message (and its Chinese one, when it has one) led by `en` / `zh`."""
        return self._copy(message=en + self.message, message_zh=zh + self.message_zh if self.message_zh else None)


class ApiError(LanyingError):
    def __init__(self, code: int, message: str | None) -> None:
        known = CODES.get(code)
        super().__init__(message or "", code=code, retryable=known is not None and known.retryable)


class HttpStatusError(LanyingError):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(
            message, code=f"http_{status}", zh=f"HTTP {status}:{message}", retryable=status == 429 or status >= 500
        )


class TransportError(LanyingError):
    retryable = True


class InvalidResponse(LanyingError):
    code = "invalid_response"


class ResponseTooLarge(InvalidResponse):
    code = "response_too_large"

    def __init__(self, cap: int, declared: int | None = None) -> None:
        size = f" (it declared {declared} bytes)" if declared is not None else ""
        super().__init__(
            f"the answer is larger than the {cap} byte limit{size}; reading stopped",
            zh=f"应答超过{cap}字节的上限{f'(声明{declared}字节)' if declared is not None else ''};已停止读取",
        )


class ArgumentError(LanyingError):
    code = "invalid_arguments"


class NotAllowed(LanyingError):
    """Refused by this server's own configuration (read-only mode, policy, an unselected tool)."""

    code = "not_allowed"


class EndpointRefused(NotAllowed, PermissionError):
    """A request's endpoint choice refused (a PermissionError too, for callers that catch that)."""


class ScopeMissing(NotAllowed):
    """The OAuth access token does not carry the scope this exact call needs (scopes.py)."""

    code = "insufficient_scope"


class LookupCapReached(LanyingError):
    """A tool call needed more look-up requests (names, scans, checks) than one call may make."""

    code = "lookup_cap"

    def __init__(self, cap: int) -> None:
        self.cap = cap
        super().__init__(
            f"this call needed more than {cap} look-up requests to the API (LANYING_MAX_LOOKUPS); it stopped there",
            zh=f"此调用需要超过{cap}次查询请求(LANYING_MAX_LOOKUPS),已在此停止",
        )


class DeadlineExceeded(LanyingError):
    """A tool call ran out of its whole-call time (LANYING_CALL_DEADLINE); it was stopped."""

    code = "deadline"

    def __init__(self, seconds: float, *, may_have_applied: bool | None = None) -> None:
        super().__init__(
            f"the call did not finish within {seconds:g} s (LANYING_CALL_DEADLINE bounds a whole tool call, "
            "its retries and look-ups included) and was stopped",
            zh=f"调用未在{seconds:g}秒内完成(LANYING_CALL_DEADLINE限制整个工具调用,含重试和查询),已被中止",
            may_have_applied=may_have_applied,
        )


class RateLimited(LanyingError):
    """This caller made more tool calls in the current minute than LANYING_CALLS_PER_MINUTE allows."""

    code = "rate_limited"
    retryable = True

    def __init__(self, limit: int, retry_after: float) -> None:
        wait = max(1, math.ceil(retry_after))
        self.retry_after = float(wait)
        super().__init__(
            f"this caller made more than {limit} tool calls in the current minute (LANYING_CALLS_PER_MINUTE); "
            f"nothing was sent. Calls are accepted again in {wait} s",
            zh=f"此调用方本分钟内的工具调用已超过{limit}次(LANYING_CALLS_PER_MINUTE),本次未发送任何请求;{wait}秒后可再次调用",
            may_have_applied=False,
        )


class AuditUnavailable(LanyingError):
    """The audit entry of a write could not be written, so the write was not sent (fail closed)."""

    code = "audit_unavailable"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"the write was NOT made: its audit entry could not be written to {path} ({reason})",
            zh=f"写操作未执行:无法将审计记录写入 {path}({reason})",
            may_have_applied=False,
        )


class JournalUnavailable(LanyingError):
    """The change-journal entry of a write could not be written, so the write was not sent (fail closed)."""

    code = "journal_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the write was NOT made: its change-journal entry could not be written ({reason})",
            zh=f"写操作未执行:无法写入变更日志记录({reason})",
            may_have_applied=False,
        )


class SettingsError(ValueError):
    """A missing or malformed setting; the message names the variable and what to do."""


class StateError(RuntimeError):
    """The state store cannot be used (unreadable file, a newer schema); the message says what to do."""
