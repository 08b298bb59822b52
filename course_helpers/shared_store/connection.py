"""Which store a limiter or budget uses, and a Redis connection that fails with a clear message.

``store=None`` (the default) keeps a ``RateLimiter`` in the process and a ``TokenBudget`` in
SQLite. ``store="redis://host:6379/0"`` (also ``rediss://`` for TLS and ``unix://`` for a socket)
shares them through Redis; ``store="redis"`` reads that URL from the ``REDIS_URL`` variable, so
a deployment can point every worker at one Redis without a code change.

Every connection problem becomes one :class:`StoreError` naming the URL (its password masked)
and what to do; a malformed URL is a ``ValueError`` at construction.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

__all__ = [
    "REDIS_SCHEMES",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailableError",
    "connect",
    "explain",
    "make_client",
    "mask_url",
    "resolve_store",
]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_HOW_TO_START = "start one (redis-server --port 6379) or point store= / REDIS_URL at yours"


class StoreError(RuntimeError):
    """The shared store cannot be used; ``url`` is the store's URL with its password masked."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class StoreUnavailableError(StoreError):
    """Redis could not be reached (down, restarting, wrong host or port). Worth retrying later."""


class StoreConfigError(StoreError):
    """Redis refused the URL's credentials or database: a configuration error, never hidden by a
    fallback."""


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print and log."""
    return re.sub(r"(://[^:@/]*:)[^@/]*@", r"\1***@", url)


def resolve_store(store: str | None) -> str | None:
    """The Redis URL a ``store=`` argument names, or ``None`` for the local default.

    >>> resolve_store(None) is None, resolve_store("memory") is None
    (True, True)
    >>> resolve_store("redis://localhost:6379/0")
    'redis://localhost:6379/0'
    """
    if store is None or store == "memory":
        return None
    if not isinstance(store, str):
        raise TypeError(
            f"store must be a string such as 'redis://localhost:6379/0', not {store!r}."
        )
    if store == "redis":
        url = os.environ.get("REDIS_URL", "").strip()
        if not url:
            raise ValueError(
                "store='redis' reads the Redis URL from REDIS_URL, which is not set: "
                "export REDIS_URL=redis://localhost:6379/0, or pass the URL as store=."
            )
        source = "REDIS_URL"
    else:
        url, source = store, "store="
    if not url.startswith(REDIS_SCHEMES):
        raise ValueError(
            f"{source} {mask_url(url)!r} is not a Redis URL: use redis://[:password@]host:port/db "
            "(rediss:// for TLS, unix:///path/to/redis.sock), store='redis' to read REDIS_URL, "
            "or leave store unset for the local default."
        )
    return url


def connect(url: str, *, timeout: float = 2.0) -> redis.Redis:
    """A client for ``url`` that has answered a PING; :class:`StoreError` if it cannot."""
    client = make_client(url, timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise explain(exc, mask_url(url)) from None
    return client


def make_client(url: str, *, timeout: float = 2.0) -> redis.Redis:
    """A client for ``url``, not yet connected (it connects, and reconnects, on first use).

    One quick retry on a dropped connection is enough to survive a Redis restart (the pool's old
    sockets are dead; the retry opens a new one); longer outages are the caller's policy, not a
    pile of hidden waits here.
    """
    masked = mask_url(url)
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
            health_check_interval=15,
            decode_responses=True,
        )
    except ValueError as exc:
        raise ValueError(
            f"Cannot use the Redis URL {masked!r}: {exc}. Expected "
            "redis://[:password@]host:port/db, e.g. redis://localhost:6379/0."
        ) from None
    return client


def explain(exc: BaseException, masked_url: str) -> StoreError:
    """One clear :class:`StoreError` for a redis-py exception: what happened and what to do."""
    text = str(exc)
    lowered = text.lower()
    auth_words = ("wrongpass", "noauth", "unauthenticated")
    if isinstance(exc, redis.AuthenticationError) or any(w in lowered for w in auth_words):
        if any(w in lowered for w in ("noauth", "authentication required", "unauthenticated")):
            what = "requires a password and the URL gives none"
        elif "without any password configured" in lowered:
            what = "has no password set, but the URL gives one"
        else:
            what = "refused the user name or password in the URL"
        return StoreConfigError(
            f"Redis at {masked_url} {what}: fix the credentials in store= / REDIS_URL "
            "(redis://:PASSWORD@host:port/db, or redis://USER:PASSWORD@host:port/db).",
            url=masked_url,
        )
    if isinstance(exc, redis.ResponseError) and "db index is out of range" in lowered:
        return StoreConfigError(
            f"Redis at {masked_url} has no such database number: use one it has "
            "(redis://host:port/0 is always there).",
            url=masked_url,
        )
    if isinstance(exc, redis.TimeoutError):
        why = "it did not answer in time"
    elif _is_dns_failure(exc):
        why = "that host name does not resolve"
    elif "refused" in lowered or "no such file" in lowered:
        why = "nothing is listening there"
    elif isinstance(exc, redis.ConnectionError | redis.ResponseError):
        why = f"the connection failed ({text or type(exc).__name__})"
    else:
        why = f"{type(exc).__name__}: {text}"
    return StoreUnavailableError(
        f"Cannot reach Redis at {masked_url}: {why}. Check the URL and that Redis is running: "
        f"{_HOW_TO_START}.",
        url=masked_url,
    )


def _is_dns_failure(exc: BaseException) -> bool:
    cause: Any = exc.__cause__ or exc.__context__
    return isinstance(cause, socket.gaierror) or "name or service not known" in str(exc).lower()
