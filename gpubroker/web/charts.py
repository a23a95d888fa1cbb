"""Server-rendered SVG line charts (no JavaScript): a price series as a line, with an optional
low–high band, two value gridlines and the first and last time on the axis.

:func:`price_chart_svg` takes the points as they come from the KPI engine's chart-ready series
and returns SVG markup safe to put into a template. Coordinates are plain linear maps from the
data range onto the plot area (a flat series sits in the middle; a single point in the centre)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = float | int | Decimal


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    value: Number
    low: Number | None = None
    high: Number | None = None


@dataclass(frozen=True)
class Frame:
    width: int = 640
    height: int = 220
    left: int = 64
    right: int = 16
    top: int = 16
    bottom: int = 32

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


def _scale(value: float, low: float, high: float, start: float, length: float) -> float:
    if high == low:
        return start + length / 2
    return start + (value - low) / (high - low) * length


def plot_coordinates(points: Sequence[ChartPoint], frame: Frame) -> list[tuple[float, float]]:
    """(x, y) in SVG units for each point's value: time runs left to right, value bottom to top."""
    times = [point.at.timestamp() for point in points]
    values = [
        float(v) for point in points for v in (point.value, point.low, point.high) if v is not None
    ]
    t0, t1 = min(times), max(times)
    v0, v1 = min(values), max(values)
    coordinates = []
    for point, t in zip(points, times, strict=True):
        x = _scale(t, t0, t1, frame.left, frame.plot_width)
        y = frame.top + frame.plot_height - _scale(float(point.value), v0, v1, 0, frame.plot_height)
        coordinates.append((round(x, 1), round(y, 1)))
    return coordinates


def _y(value: float, v0: float, v1: float, frame: Frame) -> float:
    return round(frame.top + frame.plot_height - _scale(value, v0, v1, 0, frame.plot_height), 1)


def _money(value: float) -> str:
    return f"${value:,.2f}"


def price_chart_svg(
    points: Sequence[ChartPoint],
    *,
    title: str,
    unit: str = "per GPU-hour",
    frame: Frame | None = None,
) -> SafeString:
    """An accessible inline SVG (``role="img"`` with a title); empty markup for no points."""
    if not points:
        return mark_safe("")
    frame = frame or Frame()
    points = sorted(points, key=lambda point: point.at)
    coordinates = plot_coordinates(points, frame)
    values = [float(v) for p in points for v in (p.value, p.low, p.high) if v is not None]
    v0, v1 = min(values), max(values)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="price-chart" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" height="{frame.height}" '
        f'aria-labelledby="price-chart-title">',
        f'<title id="price-chart-title">{escape(title)}</title>',
    ]
    if len(points) > 1 and all(p.low is not None and p.high is not None for p in points):
        xs = [x for x, _ in coordinates]
        upper = [
            (x, _y(float(p.high or 0), v0, v1, frame)) for x, p in zip(xs, points, strict=True)
        ]
        lower = [(x, _y(float(p.low or 0), v0, v1, frame)) for x, p in zip(xs, points, strict=True)]
        outline = " ".join(f"{x},{y}" for x, y in [*upper, *reversed(lower)])
        parts.append(f'<polygon class="band" points="{outline}"/>')
    for value in (v1, v0) if v1 != v0 else (v0,):
        y = _y(value, v0, v1, frame)
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{y}" y2="{y}"/>'
            f'<text class="label" x="{frame.left - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(_money(value))}</text>'
        )
    line = " ".join(f"{x},{y}" for x, y in coordinates)
    parts.append(f'<polyline class="line" fill="none" points="{line}"/>')
    if len(coordinates) == 1:
        x, y = coordinates[0]
        parts.append(f'<circle class="dot" cx="{x}" cy="{y}" r="3"/>')
    baseline = frame.height - frame.bottom + 18
    first, last = points[0].at, points[-1].at
    parts.append(
        f'<text class="label" x="{frame.left}" y="{baseline}">{escape(_when(first))}</text>'
        f'<text class="label" x="{frame.width - frame.right}" y="{baseline}" text-anchor="end">'
        f"{escape(_when(last))}</text>"
    )
    parts.append(
        f'<text class="label unit" x="{frame.left + frame.plot_width / 2}" y="{baseline}" '
        f'text-anchor="middle">{escape(unit)}</text></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.strftime("%d %b %H:%M")
    return moment.astimezone(UTC).strftime("%d %b %H:%M UTC")
