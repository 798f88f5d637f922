"""Prometheus metrics as data: families of samples the web adapter renders. Pure.

Label values come only from configuration or fixed sets (subsystem, list, state,
kind, ...): never a person, an address or a Message-ID. `check_labels` refuses a
snapshot that breaks this, so a mistake fails loudly instead of exploding the
series count of someone's Prometheus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Seconds: 1 h, 6 h, 1 d, 2 d, 1 w, 2 w, 30 d, 90 d (then +Inf).
DURATION_BUCKETS = (3600.0, 21600.0, 86400.0, 172800.0, 604800.0, 1209600.0, 2592000.0,
                    7776000.0)
MAX_LABEL_LENGTH = 100


class Kind(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"  # name without "_total": the renderer adds it
    HISTOGRAM = "histogram"
    INFO = "info"  # name without "_info"


@dataclass(frozen=True, slots=True)
class Sample:
    labels: tuple[str, ...]
    value: float


@dataclass(frozen=True, slots=True)
class Histogram:
    labels: tuple[str, ...]
    buckets: tuple[tuple[float, int], ...]  # (upper bound, cumulative count), +Inf last
    sum: float
    count: int


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    samples: tuple[Sample, ...] = ()
    histograms: tuple[Histogram, ...] = ()
    info: tuple[tuple[str, str], ...] = ()  # INFO only: (label, value)


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    as_of: datetime
    families: tuple[Family, ...]

    def family(self, name: str) -> Family:
        return next(f for f in self.families if f.name == name)


def histogram(labels: tuple[str, ...], durations: Iterable[timedelta],
              bounds: Sequence[float] = DURATION_BUCKETS) -> Histogram:
    """A cumulative histogram of durations in seconds (negative ones count as 0)."""
    values = sorted(max(d.total_seconds(), 0.0) for d in durations)
    buckets: list[tuple[float, int]] = []
    i = 0
    for bound in bounds:
        while i < len(values) and values[i] <= bound:
            i += 1
        buckets.append((bound, i))
    buckets.append((float("inf"), len(values)))
    return Histogram(labels, tuple(buckets), float(sum(values)), len(values))


class LabelError(ValueError):
    """A label value that could identify a person, or an unbounded one."""


def check_labels(snapshot: MetricsSnapshot, *, max_series: int = 20_000) -> int:
    """The number of series; LabelError if a label value holds "@", is empty or too long,
    a family's samples disagree with its label names, or there are more than
    `max_series`."""
    total = 0
    for f in snapshot.families:
        rows: list[tuple[str, ...]] = [s.labels for s in f.samples]
        rows += [h.labels for h in f.histograms]
        if f.info:
            rows.append(tuple(v for _, v in f.info))
        for labels in rows:
            if f.kind is not Kind.INFO and len(labels) != len(f.labels):
                raise LabelError(f"{f.name}: {labels!r} does not match {f.labels!r}")
            for value in labels:
                if "@" in value or not value or len(value) > MAX_LABEL_LENGTH:
                    raise LabelError(f"{f.name}: label value {value!r} is not allowed")
        if len(set(rows)) != len(rows):
            raise LabelError(f"{f.name}: duplicate label sets")
        total += len(rows) * (1 if not f.histograms else len(DURATION_BUCKETS) + 3)
    if total > max_series:
        raise LabelError(f"{total} series, more than {max_series}")
    return total
