"""The Lua script behind the shared rate limiter: the two token buckets, atomic, on Redis's clock.

Kept apart from the Python so the arithmetic can be read next to ``ratelimit._Bucket``: the same
continuous refill, the same headroom rule, but the time is ``redis.call('TIME')``, one clock for
every worker, so machines whose clocks disagree still agree on the buckets.

A ``take`` never waits inside Redis: it takes the capacity at once, possibly leaving a bucket in
debt, and returns how long the caller must sleep before sending. Later callers see the debt and
sleep longer, so callers are served in the order their scripts ran, across every process (first
come, first served without a queue in Redis, and nothing to clean up when a worker dies).
"""

from __future__ import annotations

__all__ = ["BUCKETS"]

# KEYS[1]  hash: r (requests left), t (tokens left), ts (Redis time of the last update, s)
# KEYS[2]  sorted set: worker id -> Redis time last seen (how many share the limit)
# ARGV     mode, request cap, token cap (0 = no limit), period, headroom, tokens, requests,
#          fresh (the fraction of capacity a missing bucket starts with), worker id, a, b
# modes    take: take now, return the wait; try: take only if no wait; peek: just the wait;
#          give: add a requests and b tokens back (b may be negative: reconcile);
#          lower: lower the levels to at most a requests and b tokens (-1 = leave)
# returns  {wait, requests level, tokens level, exists (1 if the bucket is in Redis now), workers,
#          Redis time of the call}
BUCKETS = r"""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local mode = ARGV[1]
local rcap, tcap = tonumber(ARGV[2]), tonumber(ARGV[3])
local period, headroom = tonumber(ARGV[4]), tonumber(ARGV[5])
local tokens, requests = tonumber(ARGV[6]), tonumber(ARGV[7])
local fresh = tonumber(ARGV[8])
local state = redis.call('HMGET', KEYS[1], 'r', 't', 'ts')
local r, tk, ts = tonumber(state[1]), tonumber(state[2]), tonumber(state[3])
local created = 0
if ts == nil then
  created = 1
  r, tk, ts = rcap * fresh, tcap * fresh, now
end
if r == nil then r = rcap end
if tk == nil then tk = tcap end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
local rrate, trate = rcap / period, tcap / period
r = math.min(rcap, r + elapsed * rrate)
tk = math.min(tcap, tk + elapsed * trate)

local function wait_for(level, cap, rate, amount)
  if cap <= 0 or amount <= 0 then return 0 end
  local target = math.min(amount + rate * headroom, math.max(amount, cap))
  local deficit = target - level
  if deficit <= 1e-9 then return 0 end
  return deficit / rate
end

local wait = math.max(wait_for(r, rcap, rrate, requests), wait_for(tk, tcap, trate, tokens))
local write = true
if mode == 'take' or (mode == 'try' and wait == 0) then
  if rcap > 0 then r = r - 1 end
  if tcap > 0 then tk = tk - tokens end
elseif mode == 'give' then
  if rcap > 0 then r = math.min(rcap, r + tonumber(ARGV[10])) end
  if tcap > 0 then tk = math.min(tcap, tk + tonumber(ARGV[11])) end
elseif mode == 'lower' then
  local a, b = tonumber(ARGV[10]), tonumber(ARGV[11])
  if rcap > 0 and a >= 0 then r = math.min(r, a) end
  if tcap > 0 and b >= 0 then tk = math.min(tk, b) end
else
  write = false
end
if write then
  redis.call('HSET', KEYS[1], 'r', string.format('%.17g', r), 't', string.format('%.17g', tk),
             'ts', string.format('%.6f', now))
end
local workers = 0
if mode == 'take' then
  redis.call('ZADD', KEYS[2], now, ARGV[9])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 2 * period - 10)
  workers = redis.call('ZCARD', KEYS[2])
end
local exists = 0
if write or created == 0 then exists = 1 end
return {string.format('%.17g', wait), string.format('%.17g', r), string.format('%.17g', tk),
        exists, workers, string.format('%.6f', now)}
"""
