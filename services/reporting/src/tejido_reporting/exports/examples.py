"""Example bodies of the export routes for the OpenAPI document. A test validates the IATI example
against the official 2.03 schema, as it validates what the route writes."""

from __future__ import annotations

from typing import Any

IATI_XML = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<iati-activities version="2.03" generated-datetime="2026-11-30T12:00:00+00:00">\n'
    '  <iati-activity last-updated-datetime="2026-11-30T12:00:00+00:00" xml:lang="es">\n'
    "    <iati-identifier>XM-DAC-TEJIDO-0193c1f6-2a40-7d3e-8b11-4f0e9a7c2d15</iati-identifier>\n"
    '    <reporting-org ref="XM-DAC-TEJIDO" type="22">\n'
    '      <narrative xml:lang="en">Tejido network</narrative>\n'
    "    </reporting-org>\n"
    "    <title>\n"
    '      <narrative xml:lang="es">SERVIVIENDA – FEDECOH: low-cost housing in Honduras</narrative>\n'
    "    </title>\n"
    '    <description type="1">\n'
    '      <narrative xml:lang="es">Technology transfer for low-cost modular housing.</narrative>\n'
    "    </description>\n"
    '    <participating-org role="4" ref="XX-TEJIDODEMO-servivienda" type="22">\n'
    '      <narrative xml:lang="es">SERVIVIENDA</narrative>\n'
    "    </participating-org>\n"
    '    <participating-org role="2" ref="XX-TEJIDODEMO-fedecoh" type="22">\n'
    '      <narrative xml:lang="es">FEDECOH</narrative>\n'
    "    </participating-org>\n"
    '    <activity-status code="1" />\n'
    '    <activity-date type="2" iso-date="2026-11-30" />\n'
    '    <result type="1" aggregation-status="1">\n'
    "      <title>\n"
    '        <narrative xml:lang="es">Viviendas construidas</narrative>\n'
    '        <narrative xml:lang="en">Houses built</narrative>\n'
    "      </title>\n"
    '      <indicator measure="1" ascending="1">\n'
    "        <title>\n"
    '          <narrative xml:lang="es">Viviendas construidas</narrative>\n'
    '          <narrative xml:lang="en">Houses built</narrative>\n'
    "        </title>\n"
    '        <reference vocabulary="99" code="SDG-11.1" />\n'
    '        <baseline year="2010" value="0" />\n'
    "        <period>\n"
    '          <period-start iso-date="2011-01-01" />\n'
    '          <period-end iso-date="2011-12-31" />\n'
    '          <target value="40" />\n'
    '          <actual value="40" />\n'
    "        </period>\n"
    "      </indicator>\n"
    "    </result>\n"
    "  </iati-activity>\n"
    "</iati-activities>"
)

IATI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "an IATI 2.03 activity file (the alliance's results)",
        "content": {"application/xml": {"schema": {"type": "string"}, "example": IATI_XML}},
    }
}
CHART_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "a bar chart: SVG text (the default) or PNG bytes",
        "content": {
            "image/svg+xml": {"schema": {"type": "string"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
