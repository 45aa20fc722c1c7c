"""MoE Explorer: `streamlit run app` (or `moe-explorer app`). Page configuration and navigation only.

The app's modules import as `moe_explorer_app` (this folder, installed under that name), so the
script works from the repository and from an installed package alike.
"""

import logging
import os

from moe_core import cpu_paths

cpu_paths.pin()  # before the pages load torch: a run trains to the same numbers on any x86 CPU

import streamlit as st

from moe_explorer_app.ui import compare_page, lessons_page, sidebar, sweep_page, train_page

logging.basicConfig(level=os.environ.get("MOE_EXPLORER_LOG", "WARNING").upper(), format="%(name)s %(message)s")

st.set_page_config(page_title="MoE Explorer", page_icon="🧭", layout="wide")
# Streamlit forgets a widget's value on a page that does not draw it; written back on every page, the
# Train page's settings and view survive a visit to the Sweep page.
for key in [*sidebar.widget_keys(), "ui.present", "ui.map_mode", "compare.numbers"]:
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
pages = [
    st.Page(train_page.render, title="Train", icon=":material/play_arrow:", url_path="train", default=True),
    st.Page(compare_page.render, title="Compare", icon=":material/compare:", url_path="compare"),
    st.Page(sweep_page.render, title="Sweep", icon=":material/bar_chart:", url_path="sweep"),
    st.Page(lessons_page.render, title="Lessons", icon=":material/school:", url_path="lessons"),
]
st.navigation(pages).run()
