"""Local mode's answer to "is the H100 getting cheaper": the KPI engine's trends (``gpu_kpis``:
the median per-GPU-hour price then and now over 24 h, 7 d and 30 d, the chained price index's
change and volatility where the index exists) and the offer-level moves in the recorded price
history (``price_trend``), written out with the tools' own figures.

The verdict comes from the longest KPI window that has figures (the index's change where the
index exists, else the median's); with no KPI window yet (a catalogue younger than a day) it
comes from the recorded price history and says over which span; with neither it says it
cannot tell."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .citations import OfferCitation, money_text
from .price_trends import FLAT_THRESHOLD
from .tools import ToolRun

WINDOW_NAMES = {"24h": "24 h", "7d": "7 days", "30d": "30 days"}
BUCKET_NAMES = {"day": "daily", "hour": "hourly"}
FLAT_PERCENT = FLAT_THRESHOLD * 100
VERDICTS = {
    "cheaper": "Yes, the {gpu} is getting cheaper",
    "more expensive": "No, the {gpu} is getting more expensive",
    "flat": "The {gpu} price is flat",
}


def _money(value: str | None) -> str:
    return "n/a" if value is None else money_text(Decimal(value))


def direction(change_percent: float) -> str:
    if change_percent <= -FLAT_PERCENT:
        return "cheaper"
    if change_percent >= FLAT_PERCENT:
        return "more expensive"
    return "flat"


def _window_text(trend: dict[str, Any]) -> str | None:
    change, index = trend["change_percent"], trend["index_change_percent"]
    if change is None and index is None:
        return None
    name = WINDOW_NAMES.get(trend["window"], trend["window"])
    parts = []
    if change is not None:
        parts.append(
            f"median {_money(trend['median_price_then'])} → "
            f"{_money(trend['median_price_now'])} ({change:+.2f} %)"
        )
    if index is not None:
        parts.append(f"price index {index:+.2f} %")
    if trend["volatility_percent"] is not None:
        parts.append(f"volatility {trend['volatility_percent']:.2f} %")
    return f"over {name}: " + ", ".join(parts)


def _kpi_verdict(trends: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(direction, window name) from the longest window with figures."""
    for trend in reversed(trends):
        value = trend["index_change_percent"]
        if value is None:
            value = trend["change_percent"]
        if value is not None:
            return direction(value), WINDOW_NAMES.get(trend["window"], trend["window"])
    return None


def _offer_line(offer: OfferCitation) -> str:
    spot = ", spot" if offer.is_spot else ""
    return (
        f"{offer.gpu_model} at {offer.provider} ({offer.region}{spot}) "
        f"{money_text(offer.price_per_gpu_hour)} per GPU-hour, price observed "
        f"{offer.observed_at:%Y-%m-%d %H:%M} UTC"
    )


def _kpi_text(gpu: str, run: ToolRun) -> tuple[str, tuple[str, str] | None]:
    if not run.ok:
        return f"I could not read the {gpu} KPIs: {run.error}.", None
    d = run.data
    variants = ", ".join(d["variants"])
    scope = f"{d['gpu_model']} ({variants})" if d["variants"] != [d["gpu_model"]] else gpu
    if d["median_price_per_gpu_hour"] is None:
        return f"The KPI engine has no listed {scope} offer to price.", None
    text = (
        f"KPI engine, {scope}: median {_money(d['median_price_per_gpu_hour'])} per GPU-hour now "
        f"over {d['listed_count']} listed offers"
    )
    if d["excluded_price_anomalies"]:
        text += f" ({d['excluded_price_anomalies']} price anomalies left out)"
    windows = [_window_text(t) for t in d["trends"]]
    shown = [w for w in windows if w]
    missing = [
        WINDOW_NAMES.get(t["window"], t["window"])
        for t, w in zip(d["trends"], windows, strict=True)
        if not w
    ]
    if shown:
        text += "; " + "; ".join(shown)
    if missing:
        text += f"; not enough history yet for {', '.join(missing)}"
    text += "."
    index = d["price_index"]
    if index:
        bucket = BUCKET_NAMES.get(index["bucket"], index["bucket"])
        text += (
            f" The {bucket} price index has {index['periods']} periods, "
            f"{index['first_index_value']:.2f} → {index['last_index_value']:.2f}."
        )
    if run.offers:
        text += " Cheapest now: " + "; ".join(_offer_line(o) for o in run.offers[:2]) + "."
    return text, _kpi_verdict(d["trends"])


def _span(start: str, end: str) -> str:
    """ "2026-12-07 06:30:20 to 06:41:02 UTC, 10 min 42 s" (the date once when it is one day)."""
    first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
    seconds = int((last - first).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes and not days else []
    parts += [f"{secs} s"] if not days and not hours else []
    to = f"{last:%H:%M:%S}" if first.date() == last.date() else f"{last:%Y-%m-%d %H:%M:%S}"
    return f"{first:%Y-%m-%d %H:%M:%S} to {to} UTC, {' '.join(parts) or '0 s'}"


def _history_text(gpu: str, run: ToolRun) -> tuple[str, str | None]:
    if not run.ok:
        return f"I could not read the price history: {run.error}.", None
    d = run.data
    if d["direction"] == "unknown":
        return (
            f"The recorded price history has fewer than two prices for every {gpu} offer in "
            f"the last {d['days']} days ({d['offers_considered']} offers).",
            None,
        )
    by_id = {o.offer_id for o in run.offers}
    lines = (
        f"{e['gpu_model']} at {e['provider']} "
        f"{money_text(Decimal(e['from_price_per_gpu_hour']))} → "
        f"{money_text(Decimal(e['to_price_per_gpu_hour']))} per GPU-hour"
        for e in d["examples"]
        if e["offer_id"] in by_id
    )
    examples = list(dict.fromkeys(lines))[:3]
    text = (
        f"Recorded price history ({_span(d['history_from'], d['history_to'])}): the "
        f"median offer moved {d['median_change_pct']:+.2f} % per GPU-hour; {d['down']} offers "
        f"went down, {d['up']} up, {d['unchanged']} unchanged, of {d['offers_considered']} "
        f"{gpu} offers."
    )
    if examples:
        text += " Largest drops: " + "; ".join(examples) + "."
    return text, d["direction"]


def trend_text(gpu: str, kpis: ToolRun, history: ToolRun) -> str:
    kpi_text, kpi_verdict = _kpi_text(gpu, kpis)
    history_text, history_direction = _history_text(gpu, history)
    if kpi_verdict is not None:
        verdict, window = kpi_verdict
        opening = VERDICTS[verdict].format(gpu=gpu) + f" (over {window}, per the KPI engine)."
    elif history_direction is not None:
        opening = (
            VERDICTS[history_direction].format(gpu=gpu)
            + " over the recorded price history (the KPI windows need more history)."
        )
    else:
        opening = f"I cannot tell whether the {gpu} is getting cheaper yet."
    return " ".join((opening, kpi_text, history_text))
