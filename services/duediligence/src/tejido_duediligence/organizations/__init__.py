"""The organizations this service knows: a read model kept from the registry's events.

Only organizations known here can be assessed or screened; key people are kept apart (restricted).
"""
