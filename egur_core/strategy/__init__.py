"""The strategy language, pure data: step models, validation, templates, roles, graph export.

Layer: the bottom. May import nothing else from ``egur_core``; everything else may import it.
"""
