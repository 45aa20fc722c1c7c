"""Pure Plotly builders: data in, a `plotly.graph_objects.Figure` out, no Streamlit.

`maps` draws the input plane (routing map, expert thumbnails), `history` quantities over training
time, `inspector` one point's gate, `sweep` a sweep's results; `style` and `palette` are what they
share.
"""
