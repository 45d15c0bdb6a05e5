"""The collective-impact report as one self-contained HTML page (styles inline, charts as data URIs),
in Spanish or English."""

from __future__ import annotations

import base64
from html import escape

from tejido_reporting.aggregates.schemas import AggregateRow
from tejido_reporting.reports.service import ReportData

TEXT = {
    "es": {
        "title": "Informe de impacto colectivo",
        "period": "Periodo",
        "all": "todos los periodos",
        "network": "La red en cifras",
        "organizations": "Organizaciones",
        "alliances": "Alianzas",
        "by_stage": "Alianzas por etapa",
        "new": "Alianzas nuevas",
        "concluded": "Alianzas concluidas",
        "none": "Ninguna en el periodo.",
        "results": "Resultados",
        "indicator": "Indicador",
        "value": "Valor",
        "unit": "Unidad",
        "targets": "Indicadores frente a metas",
        "scope": "Ámbito",
        "target": "Meta",
        "actual": "Logro",
        "status": "Estado",
        "charts": "Gráficas",
        "generated": "Generado",
        "met": "cumplida",
        "on_track": "en camino",
        "behind": "rezagada",
        "no_data": "sin datos",
        "stage": "Etapa",
        "since": "desde",
        "funnel": "Convocatoria",
        "invited": "convocadas",
        "interested": "interesadas",
        "joined": "activas en el registro",
    },
    "en": {
        "title": "Collective impact report",
        "period": "Period",
        "all": "all periods",
        "network": "The network in numbers",
        "organizations": "Organizations",
        "alliances": "Alliances",
        "by_stage": "Alliances by stage",
        "new": "New alliances",
        "concluded": "Concluded alliances",
        "none": "None in the period.",
        "results": "Results",
        "indicator": "Indicator",
        "value": "Value",
        "unit": "Unit",
        "targets": "Indicators against targets",
        "scope": "Scope",
        "target": "Target",
        "actual": "Actual",
        "status": "Status",
        "charts": "Charts",
        "generated": "Generated",
        "met": "met",
        "on_track": "on track",
        "behind": "behind",
        "no_data": "no data",
        "stage": "Stage",
        "since": "since",
        "funnel": "Recruitment",
        "invited": "invited",
        "interested": "interested",
        "joined": "active in the registry",
    },
}
STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:60rem;
color:#1d2a33;padding:0 1rem}h1{color:#1f6f8b}h2{border-bottom:2px solid #1f6f8b;padding-bottom:.2rem;
margin-top:2rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;
border-bottom:1px solid #d5dde2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{background:#eef5f8;border-radius:.5rem;padding:.8rem 1.2rem}
.kpi b{display:block;font-size:1.8rem}.status{border-radius:1rem;padding:.1rem .6rem;color:#fff}
.met{background:#2e7d32}.on_track{background:#1565c0}.behind{background:#c62828}.no_data{background:#757575}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}
"""


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _value(row: AggregateRow, value_type: str) -> str:
    text = number(row.value)
    if value_type == "percentage" and row.value is not None:
        return f"{text} % ({number(row.numerator)} / {number(row.denominator)})"
    if row.currency:
        return f"{text} {row.currency}"
    return text


def render(data: ReportData) -> str:
    t = TEXT[data.lang]
    e = escape
    parts: list[str] = [
        f'<!DOCTYPE html><html lang="{data.lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(t['title'])} — {e(data.period_label)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(t['title'])}</h1><p>{e(t['period'])}: <strong>{e(data.period_label)}</strong></p>",
        f'<h2>{e(t["network"])}</h2><div class="kpis">',
        f'<div class="kpi"><b>{number(data.network.organizations.total)}</b>{e(t["organizations"])}</div>',
        f'<div class="kpi"><b>{number(data.network.alliances.total)}</b>{e(t["alliances"])}</div>',
        f'<div class="kpi"><b>{number(len(data.new_alliances))}</b>{e(t["new"])}</div>',
        f'<div class="kpi"><b>{number(len(data.concluded_alliances))}</b>{e(t["concluded"])}</div></div>',
        f"<h3>{e(t['by_stage'])}</h3><table><tr><th>{e(t['stage'])}</th><th>{e(t['alliances'])}</th></tr>",
    ]
    for stage, count in sorted(data.network.alliances.by_stage.items()):
        parts.append(f'<tr><td>{e(stage)}</td><td class="num">{number(count)}</td></tr>')
    parts.append("</table>")
    funnel = data.network.funnel
    steps = [(funnel.invited, "invited"), (funnel.interested, "interested"), (funnel.joined, "joined")]
    if funnel.invited is not None or funnel.interested is not None:
        shown = " → ".join(f"{number(n)} {e(t[key])}" for n, key in steps if n is not None)
        parts.append(f'<p class="funnel">{e(t["funnel"])}: {shown}</p>')
    for key, alliances in (("new", data.new_alliances), ("concluded", data.concluded_alliances)):
        parts.append(f"<h2>{e(t[key])}</h2>")
        if not alliances:
            parts.append(f"<p>{e(t['none'])}</p>")
            continue
        parts.append("<ul>")
        for alliance in alliances:
            moment = alliance.created_at if key == "new" else alliance.stage_changed_at
            when = moment.date().isoformat() if moment else ""
            parts.append(f"<li><strong>{e(alliance.name)}</strong> — {e(alliance.stage)} ({e(when)})</li>")
        parts.append("</ul>")
    parts.append(
        f"<h2>{e(t['results'])}</h2><table><tr><th>{e(t['indicator'])}</th><th>{e(t['value'])}</th>"
        f"<th>{e(t['unit'])}</th></tr>"
    )
    for aggregate in data.indicators:
        name = aggregate.name.get(data.lang, aggregate.indicator)
        for row in aggregate.totals:
            parts.append(
                f'<tr><td>{e(name)}</td><td class="num">{e(_value(row, aggregate.value_type))}</td>'
                f"<td>{e(aggregate.unit)}</td></tr>"
            )
    parts.append("</table>")
    parts.append(
        f"<h2>{e(t['targets'])}</h2><table><tr><th>{e(t['indicator'])}</th><th>{e(t['scope'])}</th>"
        f"<th>{e(t['period'])}</th><th>{e(t['target'])}</th><th>{e(t['actual'])}</th><th>{e(t['status'])}</th></tr>"
    )
    for target, name, scope in data.targets:
        status = target.progress.status
        parts.append(
            f"<tr><td>{e(name)}</td><td>{e(scope)}</td><td>{e(target.period)}</td>"
            f'<td class="num">{number(target.target)}</td>'
            f'<td class="num">{number(target.progress.actual)}</td>'
            f'<td><span class="status {status}">{e(t[status])}</span></td></tr>'
        )
    parts.append(f"</table><h2>{e(t['charts'])}</h2>")
    for caption, svg in data.charts:
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        parts.append(
            f'<figure><img src="{uri}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>'
        )
    generated = data.generated_at.replace(microsecond=0).isoformat()
    parts.append(f"<footer><p>{e(t['generated'])}: {e(generated)}</p></footer></body></html>")
    return "".join(parts)
