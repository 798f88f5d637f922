"""Render a MetricsSnapshot with prometheus-client: the text format, or OpenMetrics when
the scraper asks for it (Accept: application/openmetrics-text)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client import exposition
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from reviewbot.core.web.metrics import Kind, MetricsSnapshot


class SnapshotCollector(Collector):
    """Yields the families of one snapshot (the registry calls collect() per render)."""

    def __init__(self, snapshot: MetricsSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        for f in self.snapshot.families:
            labels = list(f.labels)
            if f.kind is Kind.GAUGE:
                g = GaugeMetricFamily(f.name, f.help, labels=labels)
                for s in f.samples:
                    g.add_metric(list(s.labels), s.value)
                yield g
            elif f.kind is Kind.COUNTER:
                c = CounterMetricFamily(f.name, f.help, labels=labels)
                for s in f.samples:
                    c.add_metric(list(s.labels), s.value)
                yield c
            elif f.kind is Kind.HISTOGRAM:
                h = HistogramMetricFamily(f.name, f.help, labels=labels)
                for hs in f.histograms:
                    h.add_metric(list(hs.labels),
                                 [("+Inf" if math.isinf(b) else _le(b), float(n))
                                  for b, n in hs.buckets], hs.sum)
                yield h
            else:
                yield InfoMetricFamily(f.name, f.help, value=dict(f.info))


def _le(bound: float) -> str:
    return str(int(bound)) if bound == int(bound) else repr(bound)


def render(snapshot: MetricsSnapshot, accept: str | None) -> tuple[bytes, str]:
    """(body, content type) for this Accept header."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    encoder, content_type = exposition.choose_encoder(accept or "")
    return encoder(registry), content_type
