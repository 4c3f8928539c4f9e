"""Notifications: the in-app inbox and the external channels (log, e-mail, webhook)."""
