"""Ratings: the HACT and PSEA rules, explanations, confidence, freshness, overrides and their events."""
