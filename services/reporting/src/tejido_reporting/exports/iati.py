"""IATI activity XML (standard 2.03) for an alliance's results.

The alliance is the activity; its parties are participating organisations; each indicator with data
or a target is a result with its baseline, and per period its target and actual. Codelists used:
ActivityStatus, ActivityDateType, OrganisationRole, OrganisationType, ResultType, IndicatorMeasure.
The XSD (``iati_xsd/``, copied unchanged from IATI-Schemas 2.03) checks the structure.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tejido_reporting.exports.results import IndicatorResult
from tejido_reporting.network.models import AllianceView, OrganizationView

XSD = Path(__file__).parent / "iati_xsd" / "iati-activities-schema.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# ActivityStatus: 1 pipeline, 2 implementation, 3 finalisation, 5 cancelled
STATUS = {"commitments": "2", "established": "2", "concluded": "3", "dissolved": "5"}
# OrganisationRole: 1 funding, 2 accountable, 3 extending, 4 implementing
ROLE = {"funder": "1", "counterpart": "2", "mediator": "3", "certifier": "2", "executor": "4"}
# OrganisationType: 10 government, 21/22 NGO, 40 multilateral, 60 foundation, 70 private sector, 80 academic
ORG_TYPE = {
    "cso": "22",
    "network": "22",
    "cooperative": "22",
    "faith_based": "22",
    "community_authority": "24",
    "government": "10",
    "public_company": "15",
    "private_company": "70",
    "corporate_foundation": "60",
    "private_foundation": "60",
    "academia": "80",
    "international_organization": "40",
    "donor_agency": "10",
}


def _narratives(parent: ET.Element, texts: dict[str, str | None]) -> None:
    for lang, text in texts.items():
        if text:
            ET.SubElement(parent, "narrative", {XML_LANG: lang}).text = text


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0")


def org_ref(org: OrganizationView | None) -> str | None:
    """An org-id.guide style identifier ``SCHEME-ID`` when the registry knows one."""
    if org is None or not org.identifiers:
        return None
    first: dict[str, Any] = org.identifiers[0]
    scheme, ident = first.get("scheme"), first.get("id")
    return f"{scheme}-{ident}" if scheme and ident else None


def activity_xml(
    alliance: AllianceView,
    parties: dict[str, OrganizationView],
    results: list[IndicatorResult],
    *,
    reporting_ref: str,
    reporting_name: str,
    reporting_type: str,
) -> bytes:
    now = datetime.now(UTC).replace(microsecond=0)
    root = ET.Element("iati-activities", {"version": "2.03", "generated-datetime": now.isoformat()})
    attrs = {"last-updated-datetime": now.isoformat(), XML_LANG: "es"}
    activity = ET.SubElement(root, "iati-activity", attrs)
    ET.SubElement(activity, "iati-identifier").text = f"{reporting_ref}-{alliance.id}"
    reporting = ET.SubElement(activity, "reporting-org", {"ref": reporting_ref, "type": reporting_type})
    _narratives(reporting, {"en": reporting_name})
    title = ET.SubElement(activity, "title")
    _narratives(title, {"es": alliance.name})
    description = ET.SubElement(activity, "description", {"type": "1"})
    _narratives(description, {"es": alliance.purpose or alliance.name})
    for party in alliance.parties:
        org = parties.get(str(party["organization_id"]))
        attributes = {"role": ROLE.get(str(party.get("role")), "4")}
        ref = org_ref(org)
        if ref:
            attributes["ref"] = ref
        if org is not None and org.actor_type:
            attributes["type"] = ORG_TYPE.get(org.actor_type, "90")
        element = ET.SubElement(activity, "participating-org", attributes)
        _narratives(element, {"es": org.name if org else str(party["organization_id"])})
    ET.SubElement(activity, "activity-status", {"code": STATUS.get(alliance.stage, "1")})
    start = (alliance.created_at or now).date().isoformat()
    ET.SubElement(activity, "activity-date", {"type": "2", "iso-date": start})  # actual start
    if alliance.stage == "concluded" and alliance.stage_changed_at:
        ET.SubElement(
            activity, "activity-date", {"type": "4", "iso-date": alliance.stage_changed_at.date().isoformat()}
        )
    for result in results:
        _result(activity, result)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _result(activity: ET.Element, result: IndicatorResult) -> None:
    definition = result.definition
    element = ET.SubElement(activity, "result", {"type": "1", "aggregation-status": "1"})
    _narratives(ET.SubElement(element, "title"), {"es": definition.name.es, "en": definition.name.en})
    measure = "2" if definition.value_type == "percentage" else "1"
    ascending = "1" if definition.direction == "higher_is_better" else "0"
    indicator = ET.SubElement(element, "indicator", {"measure": measure, "ascending": ascending})
    _narratives(ET.SubElement(indicator, "title"), {"es": definition.name.es, "en": definition.name.en})
    if definition.sdg:
        ET.SubElement(indicator, "reference", {"vocabulary": "99", "code": f"SDG-{definition.sdg}"})
    if result.baseline is not None and result.baseline_year:
        ET.SubElement(
            indicator, "baseline", {"year": str(result.baseline_year), "value": _number(result.baseline)}
        )
    for period in result.periods:
        element_period = ET.SubElement(indicator, "period")
        ET.SubElement(element_period, "period-start", {"iso-date": period.months.start.isoformat()})
        ET.SubElement(element_period, "period-end", {"iso-date": period.months.end.isoformat()})
        if period.target is not None:
            ET.SubElement(element_period, "target", {"value": _number(period.target)})
        if period.actual is not None:
            ET.SubElement(element_period, "actual", {"value": _number(period.actual)})


def validate(document: bytes) -> list[str]:
    """Problems the official XSD finds (empty when valid). Loads the schema from the copied files."""
    import xmlschema

    schema = xmlschema.XMLSchema(str(XSD))
    try:
        return [str(error.reason or error) for error in schema.iter_errors(document.decode("utf-8"))]
    except (xmlschema.XMLResourceError, SyntaxError) as exc:
        return [f"not well-formed XML: {exc}"]
