"""Ranked suggestions of allies: ``GET /v1/matches`` and ``POST /v1/matches:search``."""
