"""The read model of candidates: organizations, their due-diligence state and alliances, built only
from events (``handlers.py``) and kept in the matching database as the workers' snapshot."""
