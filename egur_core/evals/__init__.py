"""Evaluation: datasets with their official scorers and verifiers, the baselines, the method comparison,
metrics and run records.

Layer: above ``reasoner``; never imports ``sim``, ``app`` or ``cli`` (model clients are built by a factory
the caller hands in).
"""
