"""Ironstar: an event-sourced platform for scientific data analysis."""

__version__ = "0.1.0"
