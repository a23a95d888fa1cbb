from __future__ import annotations

import pytest


@pytest.fixture
def model_catalogue(db):
    """The model catalogue (``manage.py load_models``): published architectures by alias."""
    from apps.math_core.model_catalogue import load_models

    load_models()


@pytest.fixture
def demo_catalogue(model_catalogue):
    """What ``make run`` loads: the GPU dataset, the model catalogue and the recorded provider
    snapshots replayed through the real adapters (so price history exists)."""
    from apps.math_core.services import load_benchmarks
    from apps.providers.services import load_demo_data

    load_benchmarks()
    load_demo_data()


@pytest.fixture(autouse=True)
def _fresh_circuits():
    from apps.ai_assistant.agent_client import reset_breakers

    reset_breakers()
    yield
    reset_breakers()
