"""Shared fixtures. Tests are a package (``tests/__init__.py``) so helpers import as ``tests.x``."""
