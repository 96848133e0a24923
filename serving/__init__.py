"""Serving the app to a class: request priority, CPU checks, Gradio session handling.  Never imported by ganmodels."""
