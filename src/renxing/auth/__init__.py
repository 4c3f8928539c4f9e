"""Users, roles, grid scopes, sessions and the audit log."""
