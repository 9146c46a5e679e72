"""Vision models. Import a family module directly, or use ``refmodels.create_model``."""
