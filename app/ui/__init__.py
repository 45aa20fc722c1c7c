"""What draws: the pages, the sidebar, the live panel and the components, in Streamlit. Each reads the
state (`moe_explorer_app.state`) and the figures (`moe_explorer_app.figures`) and holds no logic of its own."""
