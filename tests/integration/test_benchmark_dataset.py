"""The shipped GPU dataset: loads idempotently, cites a source for every row, links offers."""

import csv
from decimal import Decimal

import pytest

from apps.math_core.benchmark_loader import load_benchmarks
from apps.math_core.benchmarks import DATASET, read_dataset
from apps.math_core.models import GPUBenchmark
from apps.providers.models import GPUOffer, Provider

pytestmark = pytest.mark.django_db


def test_dataset_covers_at_least_twenty_gpus_of_both_vendors_and_kinds():
    rows = dict(read_dataset())
    assert len(rows) >= 20
    vendors = {fields["vendor"] for fields in rows.values()}
    assert vendors == {"NVIDIA", "AMD"}
    # data-centre and consumer parts
    assert "H100 SXM 80GB" in rows and "RTX 4090" in rows
    assert all(fields["source"] for fields in rows.values())


def test_datasheet_figures_are_carried_over():
    rows = dict(read_dataset())
    h100 = rows["H100 SXM 80GB"]
    # NVIDIA H100 datasheet, SXM column: 80 GB HBM3, 3.35 TB/s, 67 TFLOPS FP32, 989.5 dense BF16
    assert (h100["vram_gb"], h100["memory_bandwidth_gbps"]) == (80, 3350.0)
    assert (h100["tflops_fp32"], h100["tflops_fp16"]) == (67.0, 989.5)
    mi300x = rows["MI300X"]
    assert (mi300x["vram_gb"], mi300x["memory_bandwidth_gbps"]) == (192, 5300.0)


def test_measured_throughput_is_kept_and_missing_throughput_is_labelled_estimate():
    rows = dict(read_dataset())
    assert rows["RTX 4090"]["tokens_per_second_7b"] == 54  # llama.cpp measured 54.34
    assert rows["RTX 4090"]["tokens_per_second_7b_is_estimate"] is False
    t4 = rows["T4"]
    assert t4["tokens_per_second_7b_is_estimate"] is True
    assert t4["tokens_per_second_7b"] == 16  # 0.807 x 320 / 16.06
    assert "estimated" in t4["perf_source"]


def test_load_is_idempotent():
    first = load_benchmarks()
    assert first.created == GPUBenchmark.objects.count() >= 20
    second = load_benchmarks()
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)


def test_load_repairs_a_modified_row_and_links_offers():
    load_benchmarks()
    GPUBenchmark.objects.filter(gpu_model="L40S").update(vram_gb=1)
    provider = Provider.objects.create(name="p", display_name="P", api_base_url="https://p.test")
    offer = GPUOffer.objects.create(
        provider=provider,
        external_id="x",
        gpu_type="L40S",
        gpu_memory_gb=48,
        price_per_hour=Decimal("0.8600"),
        region="us",
    )
    result = load_benchmarks()
    assert result.updated == 1
    assert result.offers_linked == 1
    offer.refresh_from_db()
    assert offer.benchmark is not None and offer.benchmark.vram_gb == 48


def test_a_row_without_source_is_refused(tmp_path):
    with DATASET.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["source"] = ""
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:1])
    with pytest.raises(ValueError, match="no source"):
        read_dataset(path)
