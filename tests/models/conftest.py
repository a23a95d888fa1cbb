from __future__ import annotations

import pytest


@pytest.fixture
def catalogue(db):
    """The shipped model catalogue, loaded as ``manage.py load_models`` does."""
    from apps.math_core.model_catalogue import load_models

    return load_models()
