"""The Lua scripts behind the shared budget: check-and-hold and settle-once, on Redis's clock.

Python works out today's and this month's windows in the budget's time zone (calendar logic has
no place in Lua) from its estimate of Redis's time, and passes the day's bounds; the script reads
``TIME`` and answers ``stale`` if that estimate put it in the wrong day, so a worker whose clock
is a day off still spends in the right window. Dollars are kept as integer nano-dollars, so sums
are exact.
"""

from __future__ import annotations

__all__ = ["CHANGE", "SETTLE"]

# Shared prelude. KEYS[1] day hash, KEYS[2] month hash (fields tokens, nusd), KEYS[3] holds hash
# (id -> "tokens nusd expires"). ARGV[1], ARGV[2]: the day's bounds in Unix seconds.
# Drops expired holds, sums the others, and reads both windows.
_PRELUDE = r"""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function answer(status, extra)
  return {status, string.format('%.6f', now), extra or ''}
end
if now < tonumber(ARGV[1]) or now >= tonumber(ARGV[2]) then
  return answer('stale')
end
local held_tokens, held_nusd = 0, 0
local holds = redis.call('HGETALL', KEYS[3])
for i = 1, #holds, 2 do
  local tok, nusd, expires = string.match(holds[i + 1], '(%S+) (%S+) (%S+)')
  if tonumber(expires) <= now then
    redis.call('HDEL', KEYS[3], holds[i])
  else
    held_tokens = held_tokens + tonumber(tok)
    held_nusd = held_nusd + tonumber(nusd)
  end
end
local function window(key)
  local v = redis.call('HMGET', key, 'tokens', 'nusd')
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0
end
local day_tokens, day_nusd = window(KEYS[1])
local month_tokens, month_nusd = window(KEYS[2])
local function numbers()
  return table.concat({day_tokens, day_nusd, month_tokens, month_nusd, held_tokens, held_nusd}, ' ')
end
local function add(tokens, nusd)
  for _, key in ipairs({KEYS[1], KEYS[2]}) do
    redis.call('HINCRBY', key, 'tokens', tokens)
    redis.call('HINCRBY', key, 'nusd', nusd)
    redis.call('EXPIRE', key, tonumber(ARGV[3]))
  end
end
"""

# ARGV[3] window keys' lifetime (s); ARGV[4] mode: hold | spend | check | record | peek;
# ARGV[5] tokens; ARGV[6] nano-dollars; ARGV[7..10] limits: day tokens, month tokens, day nusd,
# month nusd (-1: none); ARGV[11] hold id; ARGV[12] hold lifetime (s).
# Returns {ok | over | stale, Redis time, the numbers *before* the change}.
CHANGE = (
    _PRELUDE
    + r"""
local mode = ARGV[4]
local tokens, nusd = tonumber(ARGV[5]), tonumber(ARGV[6])
local before = numbers()
if mode == 'hold' or mode == 'spend' or mode == 'check' then
  local function over(used, limit, amount, tolerance)
    return limit >= 0 and used + amount > limit + tolerance
  end
  if over(day_tokens + held_tokens, tonumber(ARGV[7]), tokens, 0)
      or over(month_tokens + held_tokens, tonumber(ARGV[8]), tokens, 0)
      or over(day_nusd + held_nusd, tonumber(ARGV[9]), nusd, 1)
      or over(month_nusd + held_nusd, tonumber(ARGV[10]), nusd, 1) then
    return answer('over', before)
  end
end
if mode == 'hold' then
  redis.call('HSET', KEYS[3], ARGV[11],
             tokens .. ' ' .. nusd .. ' ' .. string.format('%.6f', now + tonumber(ARGV[12])))
elseif mode == 'spend' or mode == 'record' then
  add(tokens, nusd)
end
return answer('ok', before)
"""
)

# KEYS[4] the hold's "settled" marker. ARGV[3] window keys' lifetime; ARGV[4] hold id;
# ARGV[5] tokens; ARGV[6] nano-dollars; ARGV[7] the marker's lifetime (s).
# Returns {settled | expired | already | stale, Redis time, the numbers before}: ``already`` when
# this hold was settled before (a retried call whose first reply was lost): nothing is counted.
SETTLE = (
    _PRELUDE
    + r"""
if redis.call('EXISTS', KEYS[4]) == 1 then
  return answer('already', numbers())
end
local before = numbers()
local released = redis.call('HDEL', KEYS[3], ARGV[4])
add(tonumber(ARGV[5]), tonumber(ARGV[6]))
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[7]))
if released == 1 then return answer('settled', before) end
return answer('expired', before)
"""
)
