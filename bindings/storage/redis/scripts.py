"""Every Lua script the Redis engine runs: each mutation is one of them, so it is applied whole or not at all.

A script runs atomically on the server: no other client sees a key's value without its index entry,
or the reverse. MULTI/EXEC would not do: a command that fails inside a transaction does not undo
the others. Each script checks everything it can refuse before its first write, and the ``#!lua``
line lets the server refuse a write script as a whole when it is out of memory, so none stops
halfway.

Every script on a namespace's data first checks that the generation it was given is still the live
one (``KEYS[1]`` is the namespace's ``life`` hash, ``ARGV[1]`` the generation), and answers ``0``
otherwise (``STALE``): a write to a deleted namespace never lands, and a read never sees one.
Entry keys are named inside the scripts from a prefix and a member of the index; they share the
namespace's hash slot, so this holds on Redis Cluster too. Key layout: ``keys.py``.
"""

from __future__ import annotations

__all__ = ["SCRIPTS", "STALE"]

STALE = 0

_LIVE = """
if redis.call('HGET', KEYS[1], 'live') ~= ARGV[1] then return 0 end
"""

# One entry's write: value, size, expiration and metadata replace the old entry whole, the index and
# the expiry set follow, and Redis may drop the entry by itself only ``margin`` seconds after it
# expired (garbage collection: expiry itself is judged by workerhost's clock).
_PUT_ONE = """
local function put_one(index, expiry, entry, key, value, x, m, margin, now)
  redis.call('UNLINK', entry)
  if m ~= '' then
    redis.call('HSET', entry, 'v', value, 's', #value, 'm', string.sub(m, 2))
  else
    redis.call('HSET', entry, 'v', value, 's', #value)
  end
  if x ~= '' then
    redis.call('HSET', entry, 'x', x)
    redis.call('ZADD', expiry, x, key)
    local collect = tonumber(x) + margin
    if collect > now then redis.call('EXPIREAT', entry, collect) end
  else
    redis.call('ZREM', expiry, key)
  end
  redis.call('ZADD', index, 0, key)
end
"""

_DELETE_ONE = """
local function delete_one(index, expiry, entry, key)
  redis.call('UNLINK', entry)
  redis.call('ZREM', expiry, key)
  return redis.call('ZREM', index, key)
end
"""

SCRIPTS: dict[str, str] = {
    # --- a namespace's data -------------------------------------------------------------------------
    # KEYS: life, entry. ARGV: generation. -> {1, value, expiration, metadata}
    "get": "#!lua flags=no-writes\n"
    + _LIVE
    + """
local row = redis.call('HMGET', KEYS[2], 'v', 'x', 'm')
return {1, row[1], row[2], row[3]}
""",
    # KEYS: life, entry... ARGV: generation, fields ('v' loads values, 's' only sizes).
    # -> {1, (value or size, expiration, metadata) per key}
    "many": "#!lua flags=no-writes\n"
    + _LIVE
    + """
local out = {1}
for i = 2, #KEYS do
  local row = redis.call('HMGET', KEYS[i], ARGV[2], 'x', 'm')
  out[#out + 1] = row[1]
  out[#out + 1] = row[2]
  out[#out + 1] = row[3]
end
return out
""",
    # KEYS: life, index. ARGV: generation, entry prefix, low bound, high bound, rows wanted, now, budget.
    # Walks the index in byte order from the low bound, skipping entries expired before now (and any
    # Redis dropped by itself), until it has the rows wanted or has looked at ``budget`` keys.
    # -> {1, last key looked at (or false at the end of the range), (key, expiration, metadata) per row}
    "list": "#!lua flags=no-writes\n"
    + _LIVE
    + """
local now = tonumber(ARGV[6])
local wanted = tonumber(ARGV[5])
local budget = tonumber(ARGV[7])
local low = ARGV[3]
local out = {1, false}
local found, seen = 0, 0
while found < wanted do
  if seen >= budget then
    out[2] = string.sub(low, 2)
    return out
  end
  local batch = math.min(math.max(wanted - found, 16), budget - seen)
  local keys = redis.call('ZRANGE', KEYS[2], low, ARGV[4], 'BYLEX', 'LIMIT', 0, batch)
  for _, key in ipairs(keys) do
    seen = seen + 1
    local row = redis.call('HMGET', ARGV[2] .. key, 's', 'x', 'm')
    if row[1] and (not row[2] or tonumber(row[2]) >= now) then
      out[#out + 1] = key
      out[#out + 1] = row[2]
      out[#out + 1] = row[3]
      found = found + 1
      if found == wanted then return out end
    end
  end
  if #keys < batch then return out end
  low = '(' .. keys[#keys]
end
return out
""",
    # KEYS: life, index, expiry, entry... ARGV: generation, margin, then key, value, expiration
    # ('' for none), metadata ('' for none, else '=' and the JSON text) per entry.
    "put": "#!lua\n"
    + _LIVE
    + _PUT_ONE
    + """
local now = tonumber(redis.call('TIME')[1])
local margin = tonumber(ARGV[2])
for i = 4, #KEYS do
  local at = 3 + (i - 4) * 4
  put_one(KEYS[2], KEYS[3], KEYS[i], ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], margin, now)
end
return 1
""",
    # KEYS: life, index, expiry, entry... ARGV: generation, margin, then key, value, expiration, metadata
    # and the value, expiration and metadata expected now (each as "put" takes it) per entry. Writes an
    # entry only if it holds what is expected. -> {1, entries written}
    "replace": "#!lua\n"
    + _LIVE
    + _PUT_ONE
    + """
local now = tonumber(redis.call('TIME')[1])
local margin = tonumber(ARGV[2])
local written = 0
for i = 4, #KEYS do
  local at = 3 + (i - 4) * 7
  local row = redis.call('HMGET', KEYS[i], 'v', 'x', 'm')
  if row[1] and row[1] == ARGV[at + 4] and (row[2] or '') == ARGV[at + 5]
      and (row[3] and '=' .. row[3] or '') == ARGV[at + 6] then
    put_one(KEYS[2], KEYS[3], KEYS[i], ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], margin, now)
    written = written + 1
  end
end
return {1, written}
""",
    # KEYS: life, index, expiry, entry... ARGV: generation, then the key of each entry.
    "delete": "#!lua\n"
    + _LIVE
    + _DELETE_ONE
    + """
for i = 4, #KEYS do delete_one(KEYS[2], KEYS[3], KEYS[i], ARGV[i - 2]) end
return 1
""",
    # KEYS: life, index, expiry, entry... ARGV: generation, then key, now per entry. Deletes each
    # entry only if it still expired before that now (lazy expiry: judged when it runs).
    "discard": "#!lua\n"
    + _LIVE
    + _DELETE_ONE
    + """
for i = 4, #KEYS do
  local key, now = ARGV[(i - 4) * 2 + 2], ARGV[(i - 4) * 2 + 3]
  local x = redis.call('HGET', KEYS[i], 'x')
  if x and tonumber(x) < tonumber(now) then delete_one(KEYS[2], KEYS[3], KEYS[i], key) end
end
return 1
""",
    # KEYS: life, index, expiry. ARGV: generation, entry prefix, now, limit.
    # Deletes up to ``limit`` entries that expired strictly before now. -> {1, deleted}
    "purge": "#!lua\n"
    + _LIVE
    + _DELETE_ONE
    + """
local now = tonumber(ARGV[3])
local keys = redis.call('ZRANGE', KEYS[3], '-inf', '(' .. ARGV[3], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))
local deleted = 0
for _, key in ipairs(keys) do
  local entry = ARGV[2] .. key
  local x = redis.call('HGET', entry, 'x')
  if not x or tonumber(x) < now then
    deleted = deleted + delete_one(KEYS[2], KEYS[3], entry, key)
  else
    redis.call('ZADD', KEYS[3], x, key)
  end
end
return {1, deleted}
""",
    # KEYS: index, expiry of a deleted generation. ARGV: entry prefix, batch.
    # Deletes up to ``batch`` of its entries. -> how many remain
    "collect": """#!lua
local keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, key in ipairs(keys) do
  redis.call('UNLINK', ARGV[1] .. key)
  redis.call('ZREM', KEYS[1], key)
end
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('UNLINK', KEYS[2]) end
return left
""",
    # --- a namespace id's generations ------------------------------------------------------------------
    # KEYS: life. -> a generation number never handed out before for this id
    "allocate": """#!lua
redis.call('PERSIST', KEYS[1])
return redis.call('HINCRBY', KEYS[1], 'next', 1)
""",
    # KEYS: life. ARGV: generation. Makes it the live one, unless it was deleted (-1) or a newer one
    # lives (-2). -> 1
    "begin": """#!lua
local generation = tonumber(ARGV[1])
if generation <= tonumber(redis.call('HGET', KEYS[1], 'dead') or '0') then return -1 end
local live = redis.call('HGET', KEYS[1], 'live')
if live == ARGV[1] then return 1 end
if live and tonumber(live) > generation then return -2 end
if live then redis.call('HSET', KEYS[1], 'dead', live) end
redis.call('HSET', KEYS[1], 'live', ARGV[1])
redis.call('PERSIST', KEYS[1])
return 1
""",
    # KEYS: life. ARGV: generation. From now on no script takes this generation for live.
    "end": """#!lua
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'dead') or '0') then
  redis.call('HSET', KEYS[1], 'dead', ARGV[1])
end
if redis.call('HGET', KEYS[1], 'live') == ARGV[1] then redis.call('HDEL', KEYS[1], 'live') end
return 1
""",
    # KEYS: life. ARGV: seconds. A deleted id's record may go after a while (unless it lives again).
    "retire": """#!lua
if not redis.call('HGET', KEYS[1], 'live') then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return 1
""",
    # --- the catalog -------------------------------------------------------------------------------------
    # KEYS: namespaces, titles. ARGV: id, generation, title, most namespaces.
    # -> 1, or -1 (the account is full), -2 (the id is taken), -3 (the title is taken)
    "insert": """#!lua
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return -2 end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return -3 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return 1
""",
    # KEYS: namespaces, titles. ARGV: id, title. -> 1, or -1 (no such namespace), -3 (the title is taken)
    "rename": """#!lua
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return -1 end
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner == ARGV[1] then return 1 end
if owner then return -3 end
local space = string.find(record, ' ', 1, true)
redis.call('HDEL', KEYS[2], string.sub(record, space + 1))
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], string.sub(record, 1, space - 1) .. ' ' .. ARGV[2])
return 1
""",
    # KEYS: settings. ARGV: name, the value expected now, the new value (each '' for none, else '='
    # and the text). Writes (or deletes) the setting only if it holds what is expected. -> 1, or 0
    "setting": """#!lua
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current and '=' .. current or '') ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], string.sub(ARGV[3], 2))
end
return 1
""",
    # KEYS: namespaces, titles, garbage. ARGV: id, generation. Removes the namespace if that
    # generation is the catalog's, and lists the generation's keys as garbage. -> 1, or 0
    "remove": """#!lua
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return 0 end
local space = string.find(record, ' ', 1, true)
if string.sub(record, 1, space - 1) ~= ARGV[2] then return 0 end
local title = string.sub(record, space + 1)
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], title) == ARGV[1] then redis.call('HDEL', KEYS[2], title) end
redis.call('SADD', KEYS[3], ARGV[1] .. ' ' .. ARGV[2])
return 1
""",
}
