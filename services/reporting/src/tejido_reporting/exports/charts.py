"""Charts of an aggregate (matplotlib, Agg backend; no pyplot, so no global state across threads)."""

from __future__ import annotations

import io
from typing import Literal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tejido_reporting.aggregates.schemas import Aggregate

ChartFormat = Literal["svg", "png"]
COLOR = "#1f6f8b"
TERRITORY_KEYS = ("municipality", "subdivision", "country")


def label_of(group: dict[str, str], by: str) -> str:
    if by == "period":
        return group.get("period", "")
    for key in TERRITORY_KEYS:
        if group.get(key):
            return group[key]
    return "—"


def render(
    result: Aggregate, by: Literal["period", "territory"], fmt: ChartFormat, lang: str = "en"
) -> bytes:
    rows = [r for r in result.rows if r.value is not None]
    labels = [label_of(r.group, by) + (f" {r.currency}" if r.currency else "") for r in rows]
    values = [float(r.value or 0.0) for r in rows]
    name = result.name.get(lang) or result.name.get("en") or result.indicator
    figure = Figure(figsize=(7.5, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if by == "period":
        axes.bar(labels, values, color=COLOR)
        axes.tick_params(axis="x", labelrotation=45 if len(labels) > 6 else 0)
    else:
        axes.barh(labels[::-1], values[::-1], color=COLOR)
    unit = "%" if result.value_type == "percentage" else result.unit
    axes.set_title(f"{name} ({unit})", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    if not rows:
        axes.text(
            0.5,
            0.5,
            "sin datos" if lang == "es" else "no data",
            ha="center",
            va="center",
            transform=axes.transAxes,
        )
    figure.tight_layout()
    out = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(out, format=fmt, metadata=metadata)
    return out.getvalue()
