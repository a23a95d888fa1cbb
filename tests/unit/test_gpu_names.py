"""Provider spellings → one canonical model; the variants buyers care about stay apart."""

import pytest

from apps.math_core.algorithms.gpu_names import (
    AMD,
    INTEL,
    MODELS,
    NVIDIA,
    canonical_gpu_name,
    display_gpu_name,
    family_members,
    family_named,
    gpu_families,
    gpu_family,
    gpu_filter_matches,
    matching_gpu_models,
    nominal_vram_gb,
    non_gpu_accelerator,
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
    # Quadro and older datacentre parts (issue 14)
    ("Q RTX 8000", None, "Quadro RTX 8000"),  # Vast.ai gpu_name
    ("Quadro RTX 8000", None, "Quadro RTX 8000"),
    ("Q RTX 6000", None, "Quadro RTX 6000"),
    ("Quadro RTX 6000", 24, "Quadro RTX 6000"),  # Lambda gpu_1x_rtx6000
    ("RTX 6000", 48, "RTX 6000 Ada"),  # 48 GB reported: the Ada part
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", None, "RTX PRO 6000"),
    ("Tesla V100-PCIE-16GB", None, "V100 16GB"),
    ("Tesla V100-SXM2-32GB", None, "V100 32GB"),
    ("Tesla P100-PCIE-16GB", None, "P100 16GB"),
    ("Tesla P100", 12, "P100 12GB"),
    ("Tesla P40", None, "P40"),
    ("Tesla M60", None, "M60"),
    ("A800 80GB PCIe", None, "A800 80GB"),
    ("NVIDIA A800-SXM4-40GB", None, "A800 40GB"),
    ("H800", None, "H800"),
    ("NVIDIA H20", None, "H20"),
    ("GH200", None, "GH200 96GB"),
    ("NVIDIA GH200 480GB", 96, "GH200 96GB"),
    ("GH200 144GB HBM3e", None, "GH200 144GB"),
    ("B200", 180, "B200"),
    ("NVIDIA B100", None, "B100"),
    ("B300", None, "B300"),
    ("A30", None, "A30"),
    ("NVIDIA A16", None, "A16"),
    ("AMD Instinct MI250", None, "MI250"),
    ("MI325X", None, "MI325X"),
    ("Instinct MI355X", None, "MI355X"),
    ("Intel Gaudi 2", None, "Gaudi 2"),
    ("Gaudi2", None, "Gaudi 2"),
    ("Habana Gaudi 3", None, "Gaudi 3"),
    ("HL-205", None, "Gaudi"),
    ("RTX 3060", None, "RTX 3060"),
    ("RTX 4070 Ti", None, "RTX 4070 Ti"),
    ("RTX 4090 Ti", None, "RTX 4090"),  # no such product: the Ti is not invented
]


@pytest.mark.parametrize(("raw", "memory", "expected"), CASES)
def test_provider_spellings_map_to_one_canonical_model(raw, memory, expected):
    assert canonical_gpu_name(raw, memory) == expected


@pytest.mark.parametrize(
    "raw", ["", None, "   ", "Quadro RTX 7000", "foo", "Tesla K80", "CPU only", 42]
)
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


def test_every_canonical_model_is_a_fixed_point_with_a_family():
    for name, info in MODELS.items():
        assert canonical_gpu_name(name, float(info.vram_gb)) == name
        assert canonical_gpu_name(name) == name
        assert name in family_members(info.family)
        assert gpu_family(name) == info.family


def test_every_rule_output_is_in_the_model_table():
    for _, _memory, expected in CASES:
        assert expected in MODELS
        assert nominal_vram_gb(expected) == MODELS[expected].vram_gb


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("TPU v5e", "TPU"),
        ("tpu-v4-podslice", "TPU"),
        ("AWS Trainium", "Trainium"),
        ("Trainium2", "Trainium"),
        ("Inferentia2", "Inferentia"),
        ("AWS Inferentia", "Inferentia"),
    ],
)
def test_non_gpu_accelerators_are_refused_on_purpose(raw, kind):
    assert non_gpu_accelerator(raw) == kind
    assert canonical_gpu_name(raw) is None


@pytest.mark.parametrize("raw", ["H100 SXM", "Gaudi 2", "RTX 4090", "Inferno", None, ""])
def test_gpus_are_not_non_gpu_accelerators(raw):
    assert non_gpu_accelerator(raw) is None


def test_gaudi_is_intel():
    model = normalize_gpu_name("Gaudi 3")
    assert model is not None and model.vendor == INTEL


def test_nominal_vram_of_datasheets():
    assert nominal_vram_gb("L40S") == 48  # Vast reports 44.99 GiB
    assert nominal_vram_gb("H100 NVL 94GB") == 94
    assert nominal_vram_gb("MI300X") == 192
    assert nominal_vram_gb("B200") == 180
    assert nominal_vram_gb("Tesla K80") is None


# --- families: a family name matches every variant; a variant matches only itself ------------
def test_families_group_the_variants():
    assert family_members("H100") == ("H100 NVL 94GB", "H100 PCIe 80GB", "H100 SXM 80GB")
    assert family_members("A100") == ("A100 40GB", "A100 PCIe 80GB", "A100 SXM 80GB")
    assert family_members("V100") == ("V100 16GB", "V100 32GB")
    assert family_members("H200") == ("H200 NVL 141GB", "H200 SXM 141GB")
    assert family_members("L40S") == ("L40S",)
    assert family_members("L40") == ("L40",)
    assert family_members("RTX 4090") == ("RTX 4090",)
    assert family_members("MI300X") == ("MI300X",)
    assert family_members("H100 PCIe 80GB") == ()
    assert gpu_family("H100 PCIe 80GB") == "H100"
    assert gpu_family("A100 40GB") == "A100"
    assert gpu_family("RTX 3090 Ti") == "RTX 3090 Ti"
    assert gpu_family("Unknown GPU") is None
    families = gpu_families()
    assert set(families) == {info.family for info in MODELS.values()}
    assert sorted(n for members in families.values() for n in members) == sorted(MODELS)


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("H100", {"H100 SXM 80GB", "H100 PCIe 80GB", "H100 NVL 94GB"}),
        ("h100", {"H100 SXM 80GB", "H100 PCIe 80GB", "H100 NVL 94GB"}),
        ("NVIDIA H100", {"H100 SXM 80GB", "H100 PCIe 80GB", "H100 NVL 94GB"}),
        ("A100", {"A100 40GB", "A100 PCIe 80GB", "A100 SXM 80GB"}),
        ("rtx4090", {"RTX 4090"}),
        ("GeForce RTX 4090", {"RTX 4090"}),
        ("L40S", {"L40S"}),
        ("L40", {"L40"}),
        ("MI300X", {"MI300X"}),
        ("Quadro RTX 8000", {"Quadro RTX 8000"}),
        # variants match only themselves
        ("H100 PCIe", {"H100 PCIe 80GB"}),
        ("H100_SXM5", {"H100 SXM 80GB"}),
        ("NVIDIA H100 80GB HBM3", {"H100 SXM 80GB"}),
        ("A100 40GB", {"A100 40GB"}),
        ("A100 PCIe 80GB", {"A100 PCIe 80GB"}),
        ("RTX 3090 Ti", {"RTX 3090 Ti"}),
        ("Tesla K80", None),
        ("", None),
    ],
)
def test_matching_models_follow_the_family_rule(spelling, expected):
    found = matching_gpu_models(spelling)
    assert (None if found is None else set(found)) == expected


def test_family_named_only_for_family_names():
    assert family_named("h100") == "H100"
    assert family_named("rtx 3090") == "RTX 3090"
    assert family_named("H100 SXM") is None
    assert family_named(None) is None


def test_filter_matches_by_family_or_variant_or_tidied_name():
    assert gpu_filter_matches(["H100"], "H100 PCIe 80GB")
    assert not gpu_filter_matches(["H100 SXM"], "H100 PCIe 80GB")
    assert gpu_filter_matches(["h100 pcie"], "H100 PCIe 80GB")
    assert gpu_filter_matches(["tesla k80"], "Tesla K80")
    assert not gpu_filter_matches(["L40"], "L40S")
    assert not gpu_filter_matches([], "L40S")
