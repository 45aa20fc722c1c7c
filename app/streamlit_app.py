"""MoE Explorer: `streamlit run app`. Page configuration and navigation only."""

import streamlit as st

from app import train_page

st.set_page_config(page_title="MoE Explorer", page_icon="🧭", layout="wide")
st.navigation([st.Page(train_page.render, title="Train", icon="▶️", url_path="train", default=True)]).run()
