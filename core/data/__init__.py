"""Data files that ship with the core (read with ``importlib.resources``)."""
