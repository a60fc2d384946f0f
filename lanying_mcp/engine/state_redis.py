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

import json
from collections.abc import Callable, Collection
from typing import Any, cast
from urllib.parse import urlsplit

from ..core.errors import StateError
from ..core.settings import state_url_problem
from .state import MAX_LISTED, Record, State

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

# The logs (the change journal): records in append order, no time to live. Per namespace: `…:lk` hash
# key → seq, `…:lr` hash seq → the record as JSON, `…:lz` sorted set of the seqs, `…:ln` the seq counter
# (never reset, so a seq is never reused), and `…:t:<tag>` a sorted set of the seqs carrying that tag.
_LOG_SCRIPT = """
local K, R, Z, N = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, key, tagbase = ARGV[1], ARGV[3], ARGV[12]
local nows = ARGV[2]
if nows == '' then
  local t = redis.call('TIME')
  nows = string.format('%.6f', tonumber(t[1]) + tonumber(t[2]) / 1000000)
end

local function load(seq)
  local raw = redis.call('HGET', R, seq)
  if not raw then return nil end
  return cjson.decode(raw), raw
end

local function drop(seq)
  local rec = load(seq)
  if not rec then return 0 end
  for _, tag in ipairs(rec.tags) do redis.call('ZREM', tagbase .. tag, seq) end
  redis.call('HDEL', K, rec.key)
  redis.call('HDEL', R, seq)
  redis.call('ZREM', Z, seq)
  return 1
end

local function has_all(rec, wanted)
  local mine = {}
  for _, tag in ipairs(rec.tags) do mine[tag] = true end
  for _, tag in ipairs(wanted) do
    if not mine[tag] then return false end
  end
  return true
end

-- every seq of a sorted set, oldest first, calling visit(seq) (which may delete it)
local function each(set, visit)
  local seqs = redis.call('ZRANGE', set, 0, -1)
  for _, seq in ipairs(seqs) do visit(seq) end
end

if op == 'append' then
  if redis.call('HEXISTS', K, key) == 1 then return false end
  local seq = redis.call('INCR', N)
  local tags = cjson.decode(ARGV[5])
  local rec = {seq = seq, key = key, time = nows, value = ARGV[4], tags = tags}
  redis.call('HSET', K, key, seq)
  redis.call('HSET', R, seq, cjson.encode(rec))
  redis.call('ZADD', Z, seq, seq)
  for _, tag in ipairs(tags) do redis.call('ZADD', tagbase .. tag, seq, seq) end
  return {seq, nows}
elseif op == 'amend' then
  local seq = redis.call('HGET', K, key)
  if not seq then return 0 end
  local rec = load(seq)
  rec.value = ARGV[4]
  if ARGV[5] ~= '' then
    for _, tag in ipairs(rec.tags) do redis.call('ZREM', tagbase .. tag, seq) end
    rec.tags = cjson.decode(ARGV[5])
    for _, tag in ipairs(rec.tags) do redis.call('ZADD', tagbase .. tag, seq, seq) end
  end
  redis.call('HSET', R, seq, cjson.encode(rec))
  return 1
elseif op == 'record' then
  local seq = redis.call('HGET', K, key)
  if not seq then return false end
  return redis.call('HGET', R, seq)
elseif op == 'scan' then
  local wanted = cjson.decode(ARGV[5])
  local since, below, limit = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
  local source = Z
  if #wanted > 0 then  -- walk the smallest of the tags' sets
    source = tagbase .. wanted[1]
    for _, tag in ipairs(wanted) do
      if redis.call('ZCARD', tagbase .. tag) < redis.call('ZCARD', source) then source = tagbase .. tag end
    end
  end
  local top = '+inf'
  if below ~= '' then top = '(' .. below end
  local out, offset = {}, 0
  while #out < limit do
    local seqs = redis.call('ZREVRANGEBYSCORE', source, top, '-inf', 'LIMIT', offset, 256)
    if #seqs == 0 then break end
    for _, seq in ipairs(seqs) do
      local rec, raw = load(seq)
      if rec and (not since or tonumber(rec.time) >= since) and has_all(rec, wanted) then
        out[#out + 1] = raw
        if #out >= limit then break end
      end
    end
    offset = offset + 256
  end
  return out
elseif op == 'erase' then
  local before, tag = tonumber(ARGV[9]), ARGV[10]
  local source = Z
  if tag ~= '' then source = tagbase .. tag end
  local gone = 0
  each(source, function(seq)
    local rec = load(seq)
    if rec and (not before or tonumber(rec.time) < before) then gone = gone + drop(seq) end
  end)
  return gone
elseif op == 'trim' then
  local before, most = tonumber(ARGV[9]), tonumber(ARGV[11])
  local gone = 0
  if before then
    each(Z, function(seq)
      local rec = load(seq)
      if rec and tonumber(rec.time) < before then gone = gone + drop(seq) end
    end)
  end
  if most then
    local excess = redis.call('ZCARD', Z) - math.max(0, most)
    if excess > 0 then
      for _, seq in ipairs(redis.call('ZRANGE', Z, 0, excess - 1)) do gone = gone + drop(seq) end
    end
  end
  return gone
end
return redis.error_reply('unknown log operation ' .. op)
"""


def where(url: str) -> str:
    """The server a URL names, without its credentials: for messages and logs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    port = parts.port or 6379  # a URL reaching here passed `state_url_problem`: its port is a number
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
        self._log_script: Any = self._redis.register_script(_LOG_SCRIPT)

    def _keys(self, ns: str) -> list[str]:
        return [f"{self.prefix}:{{{ns}}}:{part}" for part in "veosm"]

    async def _run(self, op: str, ns: str, key: str = "", *args: Any) -> Any:
        from redis.exceptions import RedisError

        now = "" if self.clock is None else repr(self.clock())
        argv = [op, now, key, *("" if a is None else str(a) for a in args)]
        try:
            return await self._script(keys=self._keys(ns), args=argv)
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: BaseException) -> StateError:
        text = str(exc)
        if self._secret:
            text = text.replace(self._secret, "***")
        return StateError(f"the Redis state store at {self.where} failed: {type(exc).__name__}: {text}")

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

    # --- logs ------------------------------------------------------------------------------------

    async def _log(self, op: str, ns: str, key: str = "", **args: Any) -> Any:
        from redis.exceptions import RedisError

        def text(name: str) -> str:
            value = args.get(name)
            return "" if value is None else value if isinstance(value, str) else repr(value)

        now = "" if self.clock is None else f"{self.clock():.6f}"
        names = ("value", "tags", "since", "below", "limit", "before", "tag", "max_items")
        argv = [op, now, key, *(text(n) for n in names), f"{self.prefix}:{{{ns}}}:t:"]
        keys = [f"{self.prefix}:{{{ns}}}:{part}" for part in ("lk", "lr", "lz", "ln")]
        try:
            return await self._log_script(keys=keys, args=argv)
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from None

    async def append(self, ns: str, key: str, value: str, *, tags: Collection[str] = ()) -> Record:
        tagged = frozenset(tags)
        done = await self._log("append", ns, key, value=value, tags=json.dumps(sorted(tagged)))
        if not done:
            raise StateError(f"a record with key {key!r} is already in {ns}")
        return Record(int(done[0]), key, float(done[1]), value, tagged)

    async def amend(self, ns: str, key: str, value: str, *, tags: Collection[str] | None = None) -> bool:
        retag = None if tags is None else json.dumps(sorted(set(tags)))
        return bool(await self._log("amend", ns, key, value=value, tags=retag))

    async def record(self, ns: str, key: str) -> Record | None:
        raw = await self._log("record", ns, key)
        return _record(raw) if raw else None

    async def scan(
        self,
        ns: str,
        *,
        tags: Collection[str] = (),
        since: float | None = None,
        below: int | None = None,
        limit: int = 100,
    ) -> list[Record]:
        limit = max(0, min(limit, MAX_LISTED))
        if limit == 0:
            return []
        wanted = json.dumps(sorted(set(tags)))
        rows = await self._log("scan", ns, tags=wanted, since=since, below=below, limit=limit)
        return [_record(raw) for raw in rows]

    async def erase(self, ns: str, *, before: float | None = None, tag: str | None = None) -> int:
        if before is None and tag is None:
            return 0
        return int(await self._log("erase", ns, before=before, tag=tag))

    async def trim(self, ns: str, *, max_items: int | None = None, before: float | None = None) -> int:
        if max_items is None and before is None:
            return 0
        return int(await self._log("trim", ns, max_items=max_items, before=before))

    async def ping(self) -> None:
        """Raise StateError unless the server answers."""
        from redis.exceptions import RedisError

        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise StateError(f"the Redis state store at {self.where} does not answer: {type(exc).__name__}") from None

    async def close(self) -> None:
        await self._redis.aclose()


def _record(raw: str) -> Record:
    rec = json.loads(raw)
    tags: list[str] = rec.get("tags") or []  # Lua's JSON writes an empty list as {}
    return Record(int(rec["seq"]), rec["key"], float(rec["time"]), rec["value"], frozenset(tags))
