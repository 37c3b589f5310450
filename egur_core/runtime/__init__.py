"""Running one strategy on one problem: the async engine, step handlers, budgets, traces, answer extraction.

Layer: above ``strategy``; beside ``memory``, ``llm`` and ``tools``, which it never imports (the model
client and the tools reach it as objects, typed by protocols).
"""
