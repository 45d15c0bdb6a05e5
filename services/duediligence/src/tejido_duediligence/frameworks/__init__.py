"""Assessment frameworks: versioned data files shipped with the service (``data/<id>-<version>.json``)."""
