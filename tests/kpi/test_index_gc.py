"""The index update pauses Python's cyclic garbage collector only while it runs: afterwards the
collector is as it was (on, or off when the caller had turned it off), after an error too."""

from __future__ import annotations

import gc
from unittest import mock

import pytest

from apps.kpi import index_engine


@pytest.mark.django_db
def test_update_restores_the_collector(benchmarks):
    seen = []
    real = index_engine.market

    def spy():  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real()

    assert gc.isenabled()
    with mock.patch.object(index_engine, "market", spy):
        index_engine.update_price_index(bucket="day")
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        index_engine.update_price_index(bucket="day")
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.django_db
def test_an_error_in_the_update_restores_the_collector(benchmarks):
    with (
        mock.patch.object(index_engine, "market", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        index_engine.update_price_index(bucket="day")
    assert gc.isenabled()
