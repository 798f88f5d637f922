"""Plots as inline SVG, drawn on the server: no script, nothing fetched at run time.

Each plot scales to its container (viewBox, width 100%), so it reads on a phone,
and carries <title> tooltips and a text summary for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")
W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 26, 12, 34


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4) if value > step * 2 else float(step * 2)
    return float(value)


def _axes(top: float, labels: Sequence[str], every: int = 1) -> list[str]:
    out = ['<g class="axis" font-size="11" fill="#555">']
    for k in range(5):
        v = top * k / 4
        y = TOP + (H - TOP - BOTTOM) * (1 - k / 4)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#ddd"/>')
        text = f"{v:.0f}" if top >= 4 else f"{v:.1f}"
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    n = len(labels)
    for i, label in enumerate(labels):
        if i % every and i != n - 1:
            continue
        x = LEFT + (W - LEFT - RIGHT) * (i + 0.5) / max(n, 1)
        out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">'
                   f'{escape(label)}</text>')
    out.append("</g>")
    return out


def _open(title: str, summary: str) -> list[str]:
    return [f'<svg class="plot" viewBox="0 0 {W} {H}" width="100%" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
            f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>"]


def legend(names: Sequence[str]) -> str:
    items = "".join(f'<span class="key"><i style="background:{PALETTE[i % len(PALETTE)]}">'
                    f'</i>{escape(n)}</span>' for i, n in enumerate(names))
    return f'<div class="legend">{items}</div>'


def stacked_area(title: str, labels: Sequence[str], series: Sequence[Sequence[float]],
                 names: Sequence[str], every: int = 4) -> str:
    """Stacked areas: series[k][i] is layer k at labels[i]."""
    n = len(labels)
    totals = [sum(s[i] for s in series) for i in range(n)]
    top = _nice_max(max(totals, default=0))
    span_x = W - LEFT - RIGHT
    span_y = H - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + span_x * (i + 0.5) / max(n, 1)

    def y(v: float) -> float:
        return TOP + span_y * (1 - v / top)

    out = _open(title, f"{names}: last value {[s[-1] for s in series] if n else []}")
    out += _axes(top, labels, every)
    base = [0.0] * n
    for k, layer in enumerate(series):
        upper = [base[i] + layer[i] for i in range(n)]
        points = [f"{x(i):.1f},{y(upper[i]):.1f}" for i in range(n)]
        points += [f"{x(i):.1f},{y(base[i]):.1f}" for i in reversed(range(n))]
        out.append(f'<polygon class="layer" data-layer="{escape(names[k])}" '
                   f'fill="{PALETTE[k % len(PALETTE)]}" fill-opacity="0.85" '
                   f'points="{" ".join(points)}"><title>{escape(names[k])}</title></polygon>')
        base = upper
    out.append("</svg>")
    return "".join(out)


def bars(title: str, labels: Sequence[str], groups: Sequence[Sequence[float]],
         names: Sequence[str], every: int = 1, unit: str = "") -> str:
    """Grouped vertical bars: groups[k][i] is bar k of label i."""
    n = len(labels)
    top = _nice_max(max((v for g in groups for v in g), default=0))
    span_x = W - LEFT - RIGHT
    span_y = H - TOP - BOTTOM
    slot = span_x / max(n, 1)
    width = slot * 0.8 / max(len(groups), 1)
    out = _open(title, ", ".join(f"{lab}: {[g[i] for g in groups]}"
                                 for i, lab in enumerate(labels)))
    out += _axes(top, labels, every)
    for k, g in enumerate(groups):
        for i, v in enumerate(g):
            h = span_y * v / top
            bx = LEFT + slot * i + slot * 0.1 + width * k
            out.append(f'<rect class="bar" x="{bx:.1f}" y="{TOP + span_y - h:.1f}" '
                       f'width="{width:.1f}" height="{h:.1f}" '
                       f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(names[k])} '
                       f'{escape(labels[i])}: {v:g}{unit}</title></rect>')
    out.append("</svg>")
    return "".join(out)


def hbars(title: str, rows: Sequence[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars, one row each (a ranking); the label inside the plot."""
    row_h = 22
    height = TOP + row_h * max(len(rows), 1) + 8
    top = max((v for _, v in rows), default=0) or 1
    out = [f'<svg class="plot" viewBox="0 0 {W} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    label_w = 260
    for i, (label, v) in enumerate(rows):
        y = TOP + i * row_h
        w = (W - label_w - 60) * v / top
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
                   f'{escape(label[:40])}</text>')
        out.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" '
                   f'fill="{PALETTE[0]}"><title>{escape(label)}: {v:g}{unit}</title></rect>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="12">'
                   f'{v:g}{unit}</text>')
    if not rows:
        out.append(f'<text x="{W / 2}" y="{TOP + 14}" text-anchor="middle" font-size="12">'
                   'nothing yet</text>')
    out.append("</svg>")
    return "".join(out)
