"""Residents, their vulnerability, and the protection of their personal data."""
