"""Example bodies of the bulk routes for the OpenAPI document. They are real: a test imports each
example into a running registry and expects every row to be created, and exports what it wrote."""

from __future__ import annotations

import json
from typing import Any

IMPORT_CSV = (
    "legal_name,acronym,identifiers,actor_type,cso_subtype,country,subdivisions,municipalities,"
    "languages,mission,program_areas,target_populations,offers,needs,willing_to_cooperate\r\n"
    "Fundación Microcrédito del Mayo,FMM,XX-EXAMPLE:fmm,cso,ngo,MX,MX-SON,Navojoa,spa,"
    '"Microcredit and savings groups for women entrepreneurs in southern Sonora.",HE|HE3,'
    "women|families,funding|training,technology_transfer,true\r\n"
    "Universidad Comunitaria del Valle,,XX-EXAMPLE:ucv,academia,,CO,CO-VAC,Cali,spa|eng,"
    '"Research and extension on community development in the Cauca valley.",ED,youth,'
    "knowledge_and_methodology|training,funding,true\r\n"
)

_NDJSON_ROWS: list[dict[str, Any]] = [
    {
        "identity": {
            "legal_name": "Red de Mujeres Artesanas de Los Altos",
            "identifiers": [{"scheme": "XX-EXAMPLE", "id": "rmala"}],
            "actor_type": "network",
        },
        "where": {"country": "MX", "subdivisions": ["MX-CHP"], "languages": ["spa", "tzo"]},
        "purpose": {
            "mission": "Fair markets for the textiles of indigenous women artisans in Los Altos de Chiapas.",
            "program_areas": ["HE"],
            "target_populations": ["women", "indigenous_peoples"],
        },
        "cooperation": {
            "offers": [{"kind": "training", "description": "Backstrap-loom weaving workshops"}],
            "needs": [{"kind": "market_access", "description": "Buyers for fair-trade textiles"}],
            "willing_to_cooperate": True,
        },
    },
    {
        "identity": {
            "legal_name": "Municipalidad de San Pedro Sacatepéquez",
            "identifiers": [{"scheme": "XX-EXAMPLE", "id": "msps"}],
            "actor_type": "government",
            "government_level": "municipality",
        },
        "where": {"country": "GT", "subdivisions": ["GT-12"], "languages": ["spa"]},
        "purpose": {"mission": "Local government of San Pedro Sacatepéquez.", "program_areas": ["HO"]},
    },
]
IMPORT_NDJSON = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in _NDJSON_ROWS)

IMPORT_REQUEST_BODY: dict[str, Any] = {
    "content": {
        "text/csv": {"schema": {"type": "string"}, "example": IMPORT_CSV},
        "application/x-ndjson": {"schema": {"type": "string"}, "example": IMPORT_NDJSON},
    },
    "required": True,
}

# Exactly what exporting the CSV example's first organization writes (a test checks it).
EXPORT_CSV = (
    "status,legal_name,aliases,acronym,identifiers,actor_type,cso_subtype,government_level,legal_form,"
    "founding_year,country,subdivisions,municipalities,latitude,longitude,areas_of_operation,scope,"
    "languages,mission,vision,objectives,program_areas,social_indicators,target_populations,"
    "working_methods,staff,volunteers,annual_budget_amount,annual_budget_currency,funding_mix,"
    "network_memberships,offers,needs,willing_to_cooperate,legitimacy_sought\r\n"
    "active,Fundación Microcrédito del Mayo,,FMM,XX-EXAMPLE:fmm,cso,ngo,,,,MX,MX-SON,Navojoa,,,,,spa,"
    "Microcredit and savings groups for women entrepreneurs in southern Sonora.,,,HE|HE3,,"
    "women|families,,,,,,,,funding|training,technology_transfer,True,\r\n"
)
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the organizations, streamed (CSV: one row each, lists joined with `|`)",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": EXPORT_CSV},
            "application/x-ndjson": {
                "schema": {"type": "string"},
                "example": json.dumps(
                    {"id": "0193c1f5-6b0e-7c1a-9f00-5d7a1e2b3c4d", "status": "active", **_NDJSON_ROWS[1]},
                    ensure_ascii=False,
                )
                + "\n",
            },
        },
    }
}
