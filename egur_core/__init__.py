"""EGuR core: experience-guided reasoning as a library (no UI code lives here)."""

__version__ = "0.1.0"
