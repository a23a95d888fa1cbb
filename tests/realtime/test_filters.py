from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.errors import ValidationFailed
from apps.websocket_gateway.filters import PriceFilter
from tests.realtime.helpers import offer_change


def message(**kwargs):
    return offer_change(**kwargs).as_message()


def test_empty_filter_matches_everything():
    assert PriceFilter.build().matches(message())


def test_gpu_model_any_spelling_is_normalised():
    assert PriceFilter.build(gpu_model=" h100 sxm5 ").gpu_model == "H100 SXM 80GB"
    # A name the normaliser does not know is compared verbatim.
    assert PriceFilter.build(gpu_model="Tesla K80").gpu_model == "Tesla K80"
    assert PriceFilter.build(gpu_model="  ").gpu_model is None


def test_gpu_family_name_matches_every_variant_and_a_variant_only_itself():
    family = PriceFilter.build(gpu_model="H100")
    assert family.gpu_model == "H100"
    assert family.group_model is None  # several models: the all-prices group, filtered locally
    assert family.matches(message(gpu_model="H100 PCIe 80GB"))
    assert family.matches(message(gpu_model="H100 SXM 80GB"))
    assert not family.matches(message(gpu_model="H200 SXM 141GB"))
    variant = PriceFilter.build(gpu_model="H100 PCIe")
    assert variant.group_model == "H100 PCIe 80GB"
    assert variant.matches(message(gpu_model="H100 PCIe 80GB"))
    assert not variant.matches(message(gpu_model="H100 SXM 80GB"))
    single = PriceFilter.build(gpu_model="rtx 4090")
    assert single.gpu_model == "RTX 4090" and single.group_model == "RTX 4090"


def test_each_condition():
    f = PriceFilter.build(provider="RunPod", region="us-tx-3", spot=False)
    assert f.matches(message())
    assert not f.matches(message(provider="vastai"))
    assert not f.matches(message(region="EU-RO-1"))
    assert not f.matches(message(is_spot=True))


def test_max_price_is_per_gpu_hour_inclusive():
    f = PriceFilter.build(max_price_per_gpu_hour="2.5")
    assert f.max_price_per_gpu_hour == Decimal("2.5")
    assert f.matches(message(gpu_count=4, new="10.0000"))
    assert not f.matches(message(gpu_count=4, new="10.0400"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_price_per_gpu_hour": "-0.01"}, "maxPricePerGpuHour"),
        ({"max_price_per_gpu_hour": "Infinity"}, "maxPricePerGpuHour"),
        ({"max_price_per_gpu_hour": "1e"}, "maxPricePerGpuHour"),
        ({"provider": "p" * 101}, "provider"),
        ({"gpu_model": "g" * 101}, "gpuModel"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(kwargs, field):
    with pytest.raises(ValidationFailed) as raised:
        PriceFilter.build(**kwargs)
    assert raised.value.field == field
