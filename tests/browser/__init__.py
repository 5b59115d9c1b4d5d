"""End-to-end tests of the lessons' widgets in JupyterLab, driven through headless Chromium.

nbval executes notebooks but never renders a widget; these tests open a learner's working copy
in a real JupyterLab, run it, and use the widgets the way a learner does. They are marked
``browser`` (``pytest -m browser`` runs only them, ``-m "not browser"`` skips them) and skip with
install instructions when Chromium or Playwright is missing.
"""
