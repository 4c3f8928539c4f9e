"""Early warning (预警): CAP 1.2 alerts in and out, warnings to every household, delivery and acknowledgement."""
