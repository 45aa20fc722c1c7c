"""The Train page's own CSS: the page's padding, and presentation mode's larger text and hidden controls."""

# Presentation mode: no sidebar and no secondary controls, so the map gets the projector.
# Streamlit leaves 6rem above the page; 4rem clears its header and lifts the map 32 px on a projector.
PAGE_CSS = "<style>.stMainBlockContainer { padding-top: 4rem; }</style>"
PRESENTATION_CSS = """<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stExpandSidebarButton"], [class*="st-key-secondary"] { display: none !important; }
.stMainBlockContainer { padding-top: 1rem; padding-left: 1.5rem; padding-right: 1.5rem; max-width: 100%; }
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer button { font-size: 1.1rem; }
</style>"""
