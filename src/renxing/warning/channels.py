"""Channels a warning reaches households on."""

NAMES = ("in_app", "sms", "voice", "email", "log")
