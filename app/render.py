"""One way to put a figure on the page."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st


def show(fig: go.Figure, key: str, **selection):
    """Full width, and a fixed height: Streamlit remounts a chart whose data changed, and a container
    sized by its content collapses for a moment, reflowing everything below it on every refresh."""
    return st.plotly_chart(fig, key=key, width="stretch", height=int(fig.layout.height), **selection)
