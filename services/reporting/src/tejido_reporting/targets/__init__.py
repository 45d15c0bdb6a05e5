"""Targets and baselines, and progress against them."""
