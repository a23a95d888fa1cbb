"""The SVG price chart: coordinates are linear maps of the data range onto the plot area."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree

from gpubroker.web.charts import ChartPoint, Frame, plot_coordinates, price_chart_svg

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FRAME = Frame(width=200, height=120, left=20, right=10, top=10, bottom=10)  # plot 170 x 100


def points(*values: str) -> list[ChartPoint]:
    return [ChartPoint(T0 + timedelta(hours=i), Decimal(v)) for i, v in enumerate(values)]


def test_known_coordinates():
    # t: 0, 1, 2 h over x 20..190; values 1.00..3.00 over y 110 (bottom)..10 (top).
    assert plot_coordinates(points("1.00", "3.00", "2.00"), FRAME) == [
        (20.0, 110.0),
        (105.0, 10.0),
        (190.0, 60.0),
    ]


def test_the_band_widens_the_value_range():
    series = [
        ChartPoint(T0, Decimal("2"), low=Decimal("1"), high=Decimal("2")),
        ChartPoint(T0 + timedelta(hours=1), Decimal("2"), low=Decimal("2"), high=Decimal("5")),
    ]
    # range 1..5: the value 2 sits a quarter of the way up the 100-unit plot
    assert plot_coordinates(series, FRAME) == [(20.0, 85.0), (190.0, 85.0)]
    svg = price_chart_svg(series, title="band", frame=FRAME)
    assert '<polygon class="band"' in svg


def test_flat_series_and_single_point_sit_in_the_middle():
    assert plot_coordinates(points("2.5", "2.5"), FRAME) == [(20.0, 60.0), (190.0, 60.0)]
    assert plot_coordinates(points("2.5"), FRAME) == [(105.0, 60.0)]
    assert "<circle" in price_chart_svg(points("2.5"), title="one", frame=FRAME)


def test_svg_is_well_formed_labelled_and_escaped():
    svg = price_chart_svg(points("1.2", "1.5", "1.1"), title="<H100> & co", frame=FRAME)
    root = ElementTree.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("role") == "img"
    title, line = root.find(f"{ns}title"), root.find(f"{ns}polyline")
    assert title is not None and line is not None
    assert title.text == "<H100> & co"
    # 1.2 is a quarter of the way up the range 1.1..1.5
    assert line.get("points") == "20.0,85.0 105.0,10.0 190.0,110.0"
    labels = [t.text for t in root.iter(f"{ns}text")]
    assert "$1.50" in labels and "$1.10" in labels
    assert "30 Nov 12:00 UTC" in labels and "30 Nov 14:00 UTC" in labels
    assert not re.search(r"<H100>", str(svg))


def test_points_are_sorted_by_time_and_no_points_is_no_chart():
    shuffled = list(reversed(points("1", "2", "3")))
    svg = price_chart_svg(shuffled, title="t", frame=FRAME)
    assert 'points="20.0,110.0 105.0,60.0 190.0,10.0"' in svg
    assert price_chart_svg([], title="t") == ""
