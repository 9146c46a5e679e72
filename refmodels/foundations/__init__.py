"""Foundations: the building blocks every later page uses. Import a module directly,
or use ``refmodels.create_model`` for the registered families."""
