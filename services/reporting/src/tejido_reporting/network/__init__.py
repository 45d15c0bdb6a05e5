"""The network as other services' events describe it: organizations, alliances, due-diligence bands."""
