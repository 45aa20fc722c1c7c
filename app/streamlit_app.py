"""MoE Explorer: `streamlit run app` (or `moe-explorer app`). Page configuration and navigation only.

The app's modules import as `moe_explorer_app` (this folder, installed under that name), so the
script works from the repository and from an installed package alike.
"""

import logging
import os

import streamlit as st

from moe_explorer_app import train_page

logging.basicConfig(level=os.environ.get("MOE_EXPLORER_LOG", "WARNING").upper(), format="%(name)s %(message)s")

st.set_page_config(page_title="MoE Explorer", page_icon="🧭", layout="wide")
st.navigation([st.Page(train_page.render, title="Train", icon="▶️", url_path="train", default=True)]).run()
