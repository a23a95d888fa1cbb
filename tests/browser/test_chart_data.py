"""The KPI data the landing-page browser test gives its chart, checked without a browser: the
hourly series the page draws has a point per backdated hour, each median inside its min-max band.

(It also makes pytest-django create the test database when only tests/browser runs: it sets up
databases for tests that ask for one, and the browser tests reach it through their fixtures.)"""

from __future__ import annotations

from django.core.management import call_command

from apps.providers.snapshot import most_offered_models
from gpubroker.web.views import price_series
from tests.browser.helpers import backdated_hourly_index


def test_backdated_history_gives_the_top_model_an_hourly_series(db):
    call_command("load_benchmarks", verbosity=0)
    call_command("load_demo_data", verbosity=0)
    top = most_offered_models(limit=1)[0].gpu_model
    assert price_series(top) == []  # the demo data alone: only the current, incomplete hour

    backdated_hourly_index()

    series = price_series(top)
    assert len(series) >= 4
    assert [p.at for p in series] == sorted(p.at for p in series)
    for point in series:
        assert point.low is not None and point.high is not None
        assert point.low <= point.value <= point.high
