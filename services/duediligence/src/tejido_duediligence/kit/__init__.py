"""Helpers shared by the due-diligence domains (who is acting, time, JSON columns, evidence storage)."""
