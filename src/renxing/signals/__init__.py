"""Domain events: publish/subscribe inside the process, with a transactional outbox (bus, catalog, wiring)."""
