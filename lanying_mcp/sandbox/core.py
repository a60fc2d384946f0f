"""The sandbox's machinery: routing, auth, the envelope, argument reading, and the shared store.

The sandbox emulates the public documentation of the Lanying server API, not the real service:
same paths, headers, envelope and error codes, with in-memory state. Each area module keeps a
`Routes` table (`@ROUTES.route("POST", "/group/create")`); a handler gets a `Call` and returns the `data`
(or a `Reply` with top-level extras such as `cursor`), or raises `Fail(code, message)`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ..core.json_values import as_array, as_object

SANDBOX_APP_ID = "sandbox"

T = TypeVar("T")


class Fail(Exception):
    """A business error: answered as HTTP 200 with `{code, message}`, as the real API does."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Reply:
    data: Any
    extras: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass
class User:
    user_id: int
    username: str
    password: str
    nick_name: str = ""
    avatar: str = ""
    description: str = ""
    mobile: str = ""
    email: str = ""
    public_info: str = ""
    private_info: str = ""
    status: int = 0  # 0 normal, 1 disabled (banned app-wide)
    settings: dict[str, Any] = field(default_factory=dict[str, Any])
    created_at: int = 0


def default_settings(user_id: int) -> dict[str, Any]:
    return {
        "id": user_id,  # the Swagger's UserSettings.id is undescribed; the sandbox uses the user's ID
        "user_id": user_id,
        "push_token": "",
        "auth_mode": 0,
        "auth_question": "",
        "auth_answer": "",
        "auto_download": False,
        "group_confirm": False,
        "no_push": False,
        "no_push_detail": False,
        "no_push_start_hour": 0,
        "no_push_end_hour": 0,
        "no_sounds": False,
        "push_nick_name": "",
        "vibratory": False,
        "silence_start_time": 0,
        "silence_end_time": 0,
    }


class Store:
    """All state of one sandbox app. Area modules keep their own part via `store.part(Cls)`."""

    def __init__(self, admin_token: str | None = None, group_capacity: int = 2000) -> None:
        self.app_id = SANDBOX_APP_ID
        self.admin_token = admin_token or "sandbox-" + secrets.token_urlsafe(16)
        self.group_capacity = group_capacity  # undocumented: the member limit of a new group
        self.lock = threading.RLock()
        self._ids = itertools.count(2_199_040_000_000 + secrets.randbelow(1_000_000) * 1000)
        self.users: dict[int, User] = {}
        self.by_username: dict[str, int] = {}
        self.user_tokens: dict[str, int] = {}
        self._parts: dict[type, Any] = {}
        # Each area's part of deleting a user, in the order of the app's AREAS (set by build_app).
        self.forgetters: tuple[Callable[[Store, int], None], ...] = ()

    def next_id(self) -> int:
        return next(self._ids)

    @staticmethod
    def now_ms() -> int:
        return int(time.time() * 1000)

    def part(self, cls: type[T]) -> T:
        if cls not in self._parts:
            self._parts[cls] = cls()
        return self._parts[cls]

    def user(self, user_id: Any) -> User:
        """The user, or error 10000."""
        try:
            uid = int(user_id)
        except (TypeError, ValueError):
            raise Fail(10002, f"invalid user id {user_id!r}") from None
        u = self.users.get(uid)
        if u is None:
            raise Fail(10000, f"user {uid} does not exist")
        return u

    def add_user(self, username: str, password: str) -> User:
        if username in self.by_username:
            raise Fail(10004, f"username {username!r} already exists")
        uid = self.next_id()
        u = User(uid, username, password, settings=default_settings(uid), created_at=self.now_ms())
        self.users[uid] = u
        self.by_username[username] = uid
        return u

    def forget_user(self, user_id: int) -> None:
        """Delete a user: every area drops its part (the users area, last, drops the record)."""
        for forget in self.forgetters:
            forget(self, user_id)

    def issue_user_token(self, user_id: int) -> str:
        token = "u-" + secrets.token_urlsafe(18)
        self.user_tokens[token] = user_id
        return token

    def __getstate__(self) -> dict[str, Any]:
        """What a saved sandbox keeps (`lanying-mcp call --sandbox` between runs): everything but the lock."""
        state = {k: v for k, v in self.__dict__.items() if k != "lock"}
        state["_ids"] = self.next_id()  # the next ID to hand out
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()
        self._ids = itertools.count(state["_ids"])


@dataclass
class Actor:
    """Who makes the call: the app admin (admin token, no act-as), or a user.

    `admin` stays True when the admin token acts as a user (`user_id` header) or as an admin of
    a group (`group_id` header), so handlers can tell the two apart where it matters.
    """

    admin: bool
    user_id: int | None = None
    group_id: int | None = None

    @property
    def is_app_admin(self) -> bool:
        """Admin token with no act-as header: may do anything the API allows an admin."""
        return self.admin and self.user_id is None and self.group_id is None


class Call:
    """One request, as a handler sees it."""

    def __init__(
        self,
        store: Store,
        method: str,
        path: str,
        headers: dict[str, str],
        query: dict[str, str],
        body: Any,
        actor: Actor,
        raw_body: str = "",
    ) -> None:
        self.store = store
        self.raw_body = raw_body  # the body text as sent (raw-string bodies such as /user/private)
        self.method = method
        self.path = path
        self.headers = headers
        self.query = query
        self.body = body
        self.actor = actor

    # --- who ------------------------------------------------------------------------------
    def acting_user(self, required: bool = True) -> int | None:
        """The user the call acts as (user token, or admin token + user_id header)."""
        if self.actor.user_id is not None:
            return self.actor.user_id
        if required:
            raise Fail(10002, "this call acts as a user: send the user_id header with the admin token")
        return None

    # --- reading arguments ----------------------------------------------------------------
    def _source(self, where: str) -> dict[str, Any]:
        if where == "query":
            return self.query
        fields = as_object(self.body)
        return fields if fields is not None else {}

    def body_fields(self) -> dict[str, Any]:
        """The body's fields when it is a JSON object; empty otherwise."""
        return self._source("body")

    def get(self, name: str, where: str = "body", required: bool = False, default: Any = None) -> Any:
        value = self._source(where).get(name)
        if value is None or value == "":
            if required:
                raise Fail(10002, f"missing required parameter {name!r} ({where})")
            return default
        return value

    def int(self, name: str, where: str = "body", required: bool = True, default: int | None = None) -> Any:
        value = self.get(name, where, required)
        if value is None:
            return default
        if isinstance(value, bool):
            raise Fail(10002, f"parameter {name!r} must be an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise Fail(10002, f"parameter {name!r} must be an integer, got {value!r}") from None

    def bool(self, name: str, where: str = "body", required: bool = True, default: bool | None = None) -> Any:
        value = self.get(name, where, required)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise Fail(10002, f"parameter {name!r} must be true or false, got {value!r}")

    def str(self, name: str, where: str = "body", required: bool = True, default: str | None = None) -> Any:
        value = self.get(name, where, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise Fail(10002, f"parameter {name!r} must be a string")
        return value

    def ints(self, name: str, where: str = "body", required: bool = True) -> list[int]:
        value = self.get(name, where, required, default=[])
        if isinstance(value, str) and where == "query":
            value = [v for v in value.split(",") if v]
        if not isinstance(value, list):
            raise Fail(10002, f"parameter {name!r} must be a list of IDs")
        try:
            return [int(v) for v in cast(list[Any], value) if not isinstance(v, bool)]  # a JSON array's items
        except (TypeError, ValueError):
            raise Fail(10002, f"parameter {name!r} must be a list of integer IDs") from None

    def body_list(self) -> list[Any]:
        items = as_array(self.body)
        if items is None:
            raise Fail(10002, "the body must be a JSON array")
        return items


Handler = Callable[[Call], Any | Awaitable[Any]]


@dataclass(frozen=True)
class RouteInfo:
    handler: Handler
    open: bool = False  # callable with app_id only (no access-token)


class Routes:
    """One area's route table: `ROUTES = Routes()` then `@ROUTES.route("POST", "PUT", "/user/avatar")`.

    Each area keeps its own table; `app.py` merges the tables of the areas it lists. Nothing is
    registered in a shared place by importing a module.
    """

    def __init__(self) -> None:
        self.table: dict[tuple[str, str], RouteInfo] = {}

    def route(self, *methods_and_path: str, open: bool = False) -> Callable[[Handler], Handler]:  # noqa: A002
        *methods, path = methods_and_path

        def register(fn: Handler) -> Handler:
            for method in methods:
                key = (method.upper(), path)
                if key in self.table:
                    raise RuntimeError(f"sandbox route registered twice: {key}")
                self.table[key] = RouteInfo(fn, open)
            return fn

        return register


def page_extras(cursor: str, **more: Any) -> dict[str, Any]:
    """A ListResponse's top-level extras: the cursor only while there is a next page."""
    return {**({"cursor": cursor} if cursor else {}), **more}


def page(items: list[Any], cursor: str | None, limit: int | None, default_limit: int) -> tuple[list[Any], str]:
    """Cursor paging as the API does it: the cursor is an opaque offset; empty cursor on the last page."""
    try:
        start = int(cursor) if cursor else 0
    except ValueError:
        raise Fail(10002, f"invalid cursor {cursor!r}") from None
    size = limit if limit and limit > 0 else default_limit
    chunk = items[start : start + size]
    nxt = start + size
    return chunk, (str(nxt) if nxt < len(items) else "")


def parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # raw string bodies (e.g. /user/private) are accepted as-is
