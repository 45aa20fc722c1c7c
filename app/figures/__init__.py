"""Pure Plotly builders: data in, a `plotly.graph_objects.Figure` out, no Streamlit.

`routing_map` and `thumbnails` draw the input plane (the live map, each expert's own map), `history`
quantities over training time, `inspector` one point's gate, `sweep` a sweep's results, `compare`
runs side by side; `style` and `palette` are what they share.
"""
