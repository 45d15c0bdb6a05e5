"""Bulk onboarding of organizations: streamed import (a job with a durable report), export, and the
flat tabular form spreadsheets use."""
