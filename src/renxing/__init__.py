"""Renxing (韧性): resilient governance of urban communities."""

__version__ = "0.1.0"
