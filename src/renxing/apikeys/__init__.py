"""API keys for machine clients (Open311 GeoReport apps and city systems)."""
