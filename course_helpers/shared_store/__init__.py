"""Rate limits and token budgets shared by many processes and machines, through Redis.

``RateLimiter(..., store="redis://host:6379/0")`` and ``TokenBudget(..., store=...)`` build the
Redis-backed classes here; the in-process limiter and the SQLite budget stay the defaults.
Everything that must be atomic runs as a Lua script inside Redis and reads Redis's clock, so
workers whose own clocks disagree still agree on the buckets and the calendar windows.

- :mod:`.connection`  which store a ``store=`` names; one clear error per connection problem
- :mod:`.limiter`     ``RedisRateLimiter`` (script: :mod:`.limiter_lua`)
- :mod:`.budget`      ``RedisTokenBudget`` (scripts: :mod:`.budget_lua`)
"""

from course_helpers.shared_store.connection import (
    StoreConfigError,
    StoreError,
    StoreUnavailableError,
    resolve_store,
)

__all__ = ["StoreConfigError", "StoreError", "StoreUnavailableError", "resolve_store"]
