"""Per-user rate limits for chat commands: a token bucket per key. Pure; `now` (seconds,
monotonic or not) is a parameter."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """`per_minute` commands a minute per key, in bursts of up to `burst`.

    Keys that have been idle long enough to refill are forgotten, so the table
    stays as small as the set of recently active users.
    """

    per_minute: int
    burst: int | None = None  # default: per_minute
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, at

    def allow(self, key: str, now: float) -> bool:
        size = float(self.burst or self.per_minute)
        rate = self.per_minute / 60.0
        tokens, at = self._buckets.get(key, (size, now))
        tokens = min(size, tokens + max(now - at, 0.0) * rate)
        if len(self._buckets) > 10_000:
            self._forget(now, size, rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True

    def _forget(self, now: float, size: float, rate: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * rate >= size:
                del self._buckets[key]


@dataclass
class SeenOnce:
    """Remembers keys (request signatures, trigger ids) for `window` seconds: a key seen
    again within it is a replay."""

    window: float
    _seen: dict[str, float] = field(default_factory=dict)

    def first_time(self, key: str, now: float) -> bool:
        if len(self._seen) > 1000:
            for k, at in list(self._seen.items()):
                if now - at > self.window:
                    del self._seen[k]
        seen = self._seen.get(key)
        if seen is not None and now - seen <= self.window:
            return False
        self._seen[key] = now
        return True
