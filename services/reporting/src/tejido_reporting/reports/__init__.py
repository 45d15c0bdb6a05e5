"""The collective-impact report (HTML, Spanish or English)."""
