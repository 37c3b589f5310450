"""What the dashboard and the CLI share: the composition root (settings, client, tools, memory), background
jobs, charts, result queries, strategy and memory views, and the demo file.

Layer: above ``sim`` and ``evals``; only ``cli`` (and the pages) import it. Never imports streamlit.
"""
