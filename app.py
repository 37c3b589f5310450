"""EGuR Studio: the dashboard's router. Every page lives in pages/ and only renders and calls egur_core."""

import streamlit as st

st.set_page_config(page_title="EGuR Studio", page_icon=":material/psychology:", layout="wide")

PAGES = {
    "Reason": [
        st.Page("pages/run.py", title="Run", icon=":material/play_arrow:", default=True),
        st.Page("pages/ask.py", title="Ask", icon=":material/help:"),
        st.Page("pages/results.py", title="Results", icon=":material/monitoring:"),
        st.Page("pages/problems.py", title="Problems", icon=":material/search:"),
    ],
    "Experience": [
        st.Page("pages/strategies.py", title="Strategies", icon=":material/account_tree:"),
        st.Page("pages/evolution.py", title="Evolution", icon=":material/family_history:"),
        st.Page("pages/memory.py", title="Memory", icon=":material/neurology:"),
    ],
    "Configure": [
        st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
    ],
}

st.navigation(PAGES).run()
