"""Requesters' feedback on suggestions: contacted / not relevant (with a reason), acceptance rates."""
