"""Observations: API, bulk CSV and events, with revisions."""
