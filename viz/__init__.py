"""The Solara app: the solo game (``app.py``), the class game (``class_app.py``) and their parts."""
