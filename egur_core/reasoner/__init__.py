"""The EGuR algorithm: tasks without labels, role calls, Guide, Consolidator, exploit rule, selection,
feedback and the loop, plus the run skeleton every method shares.

Layer: above ``runtime``, ``memory``, ``llm``, ``tools`` and ``strategy``; never imports ``evals``, ``sim``,
``app`` or ``cli`` (datasets reach it as a ``Workload``: tasks, a grader and a verifier).
"""
