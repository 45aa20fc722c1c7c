"""MoE Explorer: placeholder page until the live app lands (issue 3)."""

import streamlit as st

st.set_page_config(page_title="MoE Explorer", layout="wide")
st.title("MoE Explorer")
st.write("The live app is on its way. Meanwhile: `python -m moe_core train --json`.")
