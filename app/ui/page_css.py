"""The Train page's own CSS: the page's padding, and presentation mode's larger text and hidden controls."""

# The live panel's columns stack when its width cannot give the map and the column beside it their
# least readable widths (a 1024 px screen with the sidebar open leaves the panel about 600 px):
# measured on the width the panel has, not the window's, so the sidebar's state counts.
LIVE_CSS = """
.st-key-live { container-type: inline-size; }
@container (max-width: 760px) {
  .st-key-live [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"]) { flex-direction: column; }
  .st-key-live [data-testid="stColumn"] { width: 100% !important; flex: 1 1 auto !important; }
}
"""
# Presentation mode: no sidebar and no secondary controls, so the map gets the projector.
# Streamlit leaves 6rem above the page; 4rem clears its header and lifts the map 32 px on a projector.
PAGE_CSS = f"<style>.stMainBlockContainer {{ padding-top: 4rem; }}{LIVE_CSS}</style>"
PRESENTATION_CSS = f"""<style>{LIVE_CSS}
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stExpandSidebarButton"], [class*="st-key-secondary"] {{ display: none !important; }}
.stMainBlockContainer {{ padding-top: 1rem; padding-left: 1.5rem; padding-right: 1.5rem; max-width: 100%; }}
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer button {{ font-size: 1.1rem; }}
.st-key-toolbar [data-testid="stSelectbox"] input {{ font-size: 1.1rem; }}
[data-testid="stAlert"] p, [data-testid="stCaptionContainer"] p {{ font-size: 1.2rem; }}
[data-testid="stMetricLabel"] p {{ font-size: 1.3rem; }}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {{ font-size: 3.4rem !important; }}
</style>"""
