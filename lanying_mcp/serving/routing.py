"""Which app a call goes to: the configured one, a named profile, or this HTTP request's credentials.

Routing happens before consent and before the call, and both see its result: the `app` argument of
profiles is removed from the arguments, and a read-only profile refuses a write — the write that
will really run, so discovery's `call_tool` cannot carry one past it. `app_of` names the app a routed
call went to (for the audit log), and `apps_of` the apps a caller holds credentials for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core import errors
from ..core.settings import Settings
from ..core.spec import Operation
from ..engine.apps import load_profiles, request_credentials
from ..engine.call import validate
from ..engine.client import LanyingClient
from ..engine.resolved import Route
from ..review import preview
from ..safety import consent
from ..safety.redact import check_maskable


class Router:
    def __init__(
        self, settings: Settings, client: LanyingClient, reachable: Callable[[], dict[str, Operation]]
    ) -> None:
        self.settings = settings
        self.client = client
        self.reachable = reachable
        self.profiles = load_profiles(settings.profiles_file) if settings.profiles_file else None
        for app in self.profiles.apps.values() if self.profiles else ():
            check_maskable(app.access_token.get_secret_value(), f"the access token of profile {app.name!r}")
        self.app_clients = {
            name: client.with_settings(
                settings.with_(endpoint=app.endpoint, app_id=app.app_id, access_token=app.access_token)
            )
            for name, app in (self.profiles.apps.items() if self.profiles else ())
        }

    def target(self, op: Operation, arguments: dict[str, Any]) -> tuple[Operation | None, dict[str, Any]]:
        return consent.target(op, arguments, self.reachable(), validate)

    def _sent(self, target: Operation | None, inner: dict[str, Any]) -> Operation | None:
        """The operation whose app and credentials the call needs: a preview needs those of the call it describes."""
        if target is not None and target.name == preview.PREVIEW_CALL:
            return preview.previewed(inner, self.reachable())
        return target

    def route(
        self, op: Operation, headers: Mapping[str, str] | None, arguments: dict[str, Any], profile: str | None = None
    ) -> Route:
        """The client for this call's app, the arguments without routing-only ones, and the operation that
        will really run with its arguments (found once, here).

        `profile`: the profile an OAuth token's claim or scope selected (oauth.py); the caller is held to it."""
        args = dict(arguments)
        client = self.client
        asked = args.pop("app", None) if self.profiles is not None else None
        found, inner = self.target(op, args)
        sent = self._sent(found, inner)
        if self.profiles is not None:
            if profile is not None and asked not in (None, profile):
                raise errors.NotAllowed(
                    f"app {asked!r} is not yours to use: your sign-in selects the profile {profile!r}; "
                    "call again without `app`, or ask the operator"
                )
            name = profile or asked or self.profiles.default
            if name not in self.app_clients:
                raise errors.ArgumentError(
                    f"app {name!r} is not a configured profile; use one of {', '.join(sorted(self.app_clients))}"
                )
            client = self.app_clients[name]
            if self.profiles.apps[name].read_only and sent is not None and not sent.hints.read_only:
                raise errors.NotAllowed(f"app {name!r} is read-only in the profiles file; {sent.name} writes")
        if self.settings.request_credentials and headers is not None:
            creds = self._credentials_of(headers)
            if creds:
                client = client.with_settings(client.settings.with_(**creds))
        if sent is None or (sent.local and not sent.plan):
            return Route(client, args, found, inner)  # answered locally (or unknown): no app credentials involved
        if not client.settings.app_id or not client.settings.access_token.get_secret_value():
            raise errors.NotAllowed(
                "no Lanying credentials for this request: send the X-Lanying-App-Id and X-Lanying-Access-Token headers",
                code="missing_credentials",
            )
        return Route(client, args, found, inner)

    def _credentials_of(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The request's own Lanying credentials; NotAllowed for an endpoint the request may not pick."""
        try:
            return request_credentials(headers, self.settings.allowed_endpoints, self.settings.endpoint)
        except errors.NotAllowed:
            raise
        except PermissionError as exc:
            raise errors.NotAllowed(str(exc)) from None

    def app_of(self, client: LanyingClient) -> dict[str, str]:
        """The app a routed call goes to, as the audit log records it: ID, endpoint, profile, credentials digest."""
        s = client.settings
        app = {"id": s.app_id, "endpoint": s.endpoint}
        profile = next((name for name, c in self.app_clients.items() if c is client), None)
        if profile is not None:
            app["profile"] = profile
        return app

    def apps_of(self, headers: Mapping[str, str] | None) -> list[Settings]:
        """The apps whose credentials this caller holds; [] when none.

        A local caller (no HTTP headers) holds the operator's apps. An HTTP request to a server that takes
        per-request credentials holds only the app of its own app ID and token, never the operator's. Raises
        NotAllowed as routing does for an endpoint the request may not pick."""
        bases = [c.settings for c in self.app_clients.values()] if self.profiles is not None else [self.client.settings]
        if self.settings.request_credentials and headers is not None:
            creds = self._credentials_of(headers)
            if "app_id" not in creds or "access_token" not in creds:
                return []
            bases = [bases[0].with_(**creds)]
        return [s for s in bases if s.app_id and s.access_token.get_secret_value()]
