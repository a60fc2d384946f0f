"""The state store on a Redis server, shared by every replica: `LANYING_STATE_URL=redis://…`.

It keeps the contract of `state.State` (`tests/test_state.py` runs on it): every method is one Lua
script, so each is atomic on the server whatever the number of replicas calling it: a nonce is taken
once, `add` stores only when the key is free, `hit` counts in a fixed window, and a bounded namespace
drops its oldest values first.

Layout: a namespace is five Redis keys sharing one hash tag (`lanying-mcp:{<ns>}:…`), so a script only
touches keys of one cluster slot:

- `…:v` hash key → value, `…:s` hash key → size in bytes;
- `…:e` sorted set key → expiry time (seconds), `…:o` sorted set key → insertion number (the age order);
- `…:m` hash of the namespace's running byte total and insertion counter.

Expired values are dropped by the scripts as they meet them; the five keys carry a Redis TTL as long as
the namespace's longest-lived value (plus a second), so an idle namespace frees itself.

Time is the Redis server's clock (`TIME`), one clock for all replicas; tests pass their own clock.
Any Redis failure (unreachable, timeout, refused auth) raises `StateError`: the confirmation gate then
refuses risky calls and reads go on. The URL's password never appears in a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from .settings import state_url_problem
from .state import MAX_LISTED, State, StateError

PREFIX = "lanying-mcp"
CONNECT_SECONDS = 2.0  # an unreachable server fails the call quickly instead of hanging it
IO_SECONDS = 5.0

_SCRIPT = """
local V, E, O, S, M = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, key = ARGV[1], ARGV[3]
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local nows = string.format('%.6f', now)

local function remove(k)
  local size = redis.call('HGET', S, k)
  if size then redis.call('HINCRBY', M, 'bytes', -tonumber(size)) end
  redis.call('HDEL', V, k)
  redis.call('HDEL', S, k)
  redis.call('ZREM', E, k)
  redis.call('ZREM', O, k)
  if redis.call('ZCARD', O) == 0 then redis.call('DEL', V, E, O, S, M) end
end

local function purge()
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', E, '-inf', nows)) do remove(k) end
end

local function live(k)
  local exp = redis.call('ZSCORE', E, k)
  if not exp then return false end
  if tonumber(exp) <= now then
    remove(k)
    return false
  end
  return redis.call('HGET', V, k)
end

local function insert(k, value, ttl)
  local seq = redis.call('HINCRBY', M, 'seq', 1)
  local size = string.len(value)
  redis.call('HSET', V, k, value)
  redis.call('HSET', S, k, size)
  redis.call('HINCRBY', M, 'bytes', size)
  redis.call('ZADD', E, string.format('%.6f', now + ttl), k)
  redis.call('ZADD', O, seq, k)
  local last = redis.call('ZRANGE', E, -1, -1, 'WITHSCORES')
  local ms = math.ceil((tonumber(last[2]) - now) * 1000) + 1000
  for _, name in ipairs(KEYS) do redis.call('PEXPIRE', name, ms) end
end

if op == 'get' then
  return live(key)
elseif op == 'take' then
  local value = live(key)
  if value then remove(key) end
  return value
elseif op == 'delete' then
  remove(key)
  return 1
elseif op == 'put' then
  local value, ttl = ARGV[4], tonumber(ARGV[5])
  local most_items, most_bytes = tonumber(ARGV[6]), tonumber(ARGV[7])
  purge()
  remove(key)
  if most_items or most_bytes then
    local size = string.len(value)
    local count = redis.call('ZCARD', O)
    local total = tonumber(redis.call('HGET', M, 'bytes') or '0')
    while count > 0 and ((most_items and count >= most_items) or (most_bytes and total + size > most_bytes)) do
      local oldest = redis.call('ZRANGE', O, 0, 0)[1]
      total = total - tonumber(redis.call('HGET', S, oldest) or '0')
      count = count - 1
      remove(oldest)
    end
  end
  insert(key, value, ttl)
  return 1
elseif op == 'add' then
  purge()
  if live(key) then return 0 end
  insert(key, ARGV[4], tonumber(ARGV[5]))
  return 1
elseif op == 'hit' then
  purge()
  if live(key) then
    local count = redis.call('HINCRBY', V, key, 1)
    local size = string.len(tostring(count))
    local old = tonumber(redis.call('HGET', S, key) or '0')
    redis.call('HSET', S, key, size)
    redis.call('HINCRBY', M, 'bytes', size - old)
    return count
  end
  insert(key, '1', tonumber(ARGV[5]))
  return 1
elseif op == 'keys' then
  local prefix, limit = ARGV[8], tonumber(ARGV[9])
  local out, start = {}, 0
  while #out < limit do
    local chunk = redis.call('ZRANGE', O, start, start + 255)
    if #chunk == 0 then break end
    for _, k in ipairs(chunk) do
      local exp = redis.call('ZSCORE', E, k)
      if exp and tonumber(exp) > now and string.sub(k, 1, #prefix) == prefix then
        out[#out + 1] = k
        if #out >= limit then break end
      end
    end
    start = start + 256
  end
  return out
end
return redis.error_reply('unknown state operation ' .. op)
"""


def where(url: str) -> str:
    """The server a URL names, without its credentials: for messages and logs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    try:
        port = parts.port or 6379
    except ValueError:
        port = "?"
    return f"{parts.scheme}://{parts.hostname or 'localhost'}:{port}{parts.path or ''}"


class RedisState(State):
    """The shared backend: one Redis server (or a cluster slot per namespace) for every replica."""

    def __init__(self, url: str, clock: Callable[[], float] | None = None, prefix: str = PREFIX) -> None:
        why = state_url_problem(url)
        if why is not None:
            raise StateError(f"LANYING_STATE_URL {why}")
        try:
            import redis.asyncio as redis
            from redis.asyncio.retry import Retry
            from redis.backoff import ExponentialBackoff
        except ImportError:  # pragma: no cover - redis is a dependency; a broken install says how to mend it
            raise StateError("LANYING_STATE_URL needs the `redis` package: pip install 'redis>=5'") from None
        self.where = where(url)
        self.clock = clock
        self.prefix = prefix
        self._secret = urlsplit(url).password or ""
        self._redis: Any = cast(Any, redis.Redis).from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_SECONDS,
            socket_timeout=IO_SECONDS,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
        self._script: Any = self._redis.register_script(_SCRIPT)

    def _keys(self, ns: str) -> list[str]:
        return [f"{self.prefix}:{{{ns}}}:{part}" for part in "veosm"]

    async def _run(self, op: str, ns: str, key: str = "", *args: Any) -> Any:
        from redis.exceptions import RedisError

        now = "" if self.clock is None else repr(self.clock())
        argv = [op, now, key, *("" if a is None else str(a) for a in args)]
        try:
            return await self._script(keys=self._keys(ns), args=argv)
        except (RedisError, OSError) as exc:
            text = str(exc)
            if self._secret:
                text = text.replace(self._secret, "***")
            raise StateError(f"the Redis state store at {self.where} failed: {type(exc).__name__}: {text}") from None

    async def put(
        self, ns: str, key: str, value: str, ttl: float, *, max_items: int | None = None, max_bytes: int | None = None
    ) -> bool:
        if max_bytes is not None and len(value.encode()) > max_bytes:
            return False
        await self._run("put", ns, key, value, ttl, max_items, max_bytes)
        return True

    async def get(self, ns: str, key: str) -> str | None:
        return await self._run("get", ns, key)

    async def take(self, ns: str, key: str) -> str | None:
        return await self._run("take", ns, key)

    async def add(self, ns: str, key: str, value: str, ttl: float) -> bool:
        return bool(await self._run("add", ns, key, value, ttl))

    async def delete(self, ns: str, key: str) -> None:
        await self._run("delete", ns, key)

    async def hit(self, ns: str, key: str, window: float) -> int:
        return int(await self._run("hit", ns, key, "", window))

    async def keys(self, ns: str, prefix: str = "", limit: int = 100) -> list[str]:
        limit = max(0, min(limit, MAX_LISTED))
        if limit == 0:
            return []
        return list(await self._run("keys", ns, "", "", "", "", "", prefix, limit))

    async def ping(self) -> None:
        """Raise StateError unless the server answers."""
        from redis.exceptions import RedisError

        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise StateError(f"the Redis state store at {self.where} does not answer: {type(exc).__name__}") from None

    async def close(self) -> None:
        await self._redis.aclose()
