"""Flags on organizations: observation → yellow → escalated → red (or back to yellow / closed)."""
