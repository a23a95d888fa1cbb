"""Provider spellings → one canonical model; the variants buyers care about stay apart."""

import pytest

from apps.math_core.algorithms.gpu_names import (
    AMD,
    NVIDIA,
    canonical_gpu_name,
    display_gpu_name,
    normalize_gpu_name,
)

CASES = [
    # H100: SXM vs PCIe vs NVL, every provider's spelling
    ("NVIDIA H100 80GB HBM3", None, "H100 SXM 80GB"),  # RunPod id / nvidia-smi name of the SXM part
    ("H100 SXM", None, "H100 SXM 80GB"),  # RunPod displayName, Vast gpu_name
    ("H100_SXM5", None, "H100 SXM 80GB"),
    ("h100-sxm5-80gb", None, "H100 SXM 80GB"),  # TensorDock v0Name
    ("H100 SXM5 80GB", None, "H100 SXM 80GB"),
    ("1x H100 (80 GB SXM5)", None, "H100 SXM 80GB"),  # Lambda description
    ("H100 PCIe", None, "H100 PCIe 80GB"),
    ("NVIDIA H100 PCIe", None, "H100 PCIe 80GB"),
    ("H100_PCIE", None, "H100 PCIe 80GB"),
    ("H100 NVL", None, "H100 NVL 94GB"),
    ("H100NVL", None, "H100 NVL 94GB"),
    ("H100", 94, "H100 NVL 94GB"),  # reported VRAM decides
    ("H100", None, "H100 SXM 80GB"),  # documented default
    # A100: 40 vs 80 GB, SXM vs PCIe
    ("A100 PCIe 80GB", None, "A100 PCIe 80GB"),
    ("a100-pcie-80gb", None, "A100 PCIe 80GB"),
    ("8x A100 (80 GB SXM4)", None, "A100 SXM 80GB"),
    ("A100_80G", None, "A100 SXM 80GB"),
    ("A100 SXM4", 80, "A100 SXM 80GB"),
    ("A100 SXM4", 40, "A100 40GB"),
    ("NVIDIA A100-SXM4-40GB", None, "A100 40GB"),
    ("A100 PCIE", 40.96, "A100 40GB"),
    # H200 / B200 / MI300X
    ("H200", None, "H200 SXM 141GB"),
    ("NVIDIA H200 NVL", None, "H200 NVL 141GB"),
    ("B200", None, "B200"),
    ("AMD Instinct MI300X OAM", None, "MI300X"),
    ("MI300X", None, "MI300X"),
    # consumer and workstation
    ("RTX 4090", None, "RTX 4090"),
    ("GeForce RTX 4090", None, "RTX 4090"),
    ("NVIDIA GeForce RTX 4090", None, "RTX 4090"),
    ("geforcertx4090-pcie-24gb", None, "RTX 4090"),
    ("RTX_4090", None, "RTX 4090"),
    ("RTX 3090", None, "RTX 3090"),
    ("RTX 3090 Ti", None, "RTX 3090 Ti"),
    ("RTX 5090", None, "RTX 5090"),
    ("RTX A6000", None, "RTX A6000"),
    ("RTXA6000", None, "RTX A6000"),
    ("NVIDIA RTX A5000", None, "RTX A5000"),
    ("RTX 6000 Ada", None, "RTX 6000 Ada"),
    ("NVIDIA RTX 6000 Ada Generation", None, "RTX 6000 Ada"),
    # Ada/Ampere datacentre: L40 vs L40S, A10 vs A10G vs A100
    ("L40S", None, "L40S"),
    ("NVIDIA L40S", None, "L40S"),
    ("l40-pcie-48gb", None, "L40"),
    ("L40", None, "L40"),
    ("NVIDIA L4", None, "L4"),
    ("A10G", None, "A10G"),
    ("1x A10 (24 GB PCIe)", None, "A10"),
    ("A40", None, "A40"),
    ("Tesla V100-SXM2-16GB", None, "V100 16GB"),
    ("V100", 32, "V100 32GB"),
    ("Tesla T4", None, "T4"),
]


@pytest.mark.parametrize(("raw", "memory", "expected"), CASES)
def test_provider_spellings_map_to_one_canonical_model(raw, memory, expected):
    assert canonical_gpu_name(raw, memory) == expected


@pytest.mark.parametrize("raw", ["", None, "   ", "Quadro RTX 8000 XYZ", "foo", "CPU only", 42])
def test_unknown_or_malformed_names_return_none(raw):
    assert canonical_gpu_name(raw) is None


def test_vendor_is_reported():
    amd, nvidia = normalize_gpu_name("MI300X"), normalize_gpu_name("H100 SXM")
    assert amd is not None and amd.vendor == AMD
    assert nvidia is not None and nvidia.vendor == NVIDIA


def test_canonical_names_are_fixed_points():
    """Normalising a canonical name gives itself, so lookups by canonical name always work."""
    for _, _, expected in CASES:
        assert canonical_gpu_name(expected) == expected


def test_unknown_names_are_kept_tidied_not_dropped():
    assert display_gpu_name("Some_New GPU  X1") == "Some New GPU X1"
    assert display_gpu_name("H100_SXM5") == "H100 SXM 80GB"
    assert display_gpu_name(None) == "Unknown"
