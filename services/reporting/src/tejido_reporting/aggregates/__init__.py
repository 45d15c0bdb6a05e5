"""Rollups kept incrementally, and the aggregate queries over them."""
