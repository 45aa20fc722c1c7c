"""What the app holds and computes between page runs: the session's runs, the training worker, the replay,
the view model, the URL and the sentences the page shows. Nothing here imports Streamlit (a test checks)."""
