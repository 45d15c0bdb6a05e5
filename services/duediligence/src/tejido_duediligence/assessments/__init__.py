"""Assessments of one organization under one framework version: answers, evidence files, workflow."""
