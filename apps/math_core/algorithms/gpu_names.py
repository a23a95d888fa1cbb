"""GPU name normalisation and GPU families: one module that every part of GPUBROKER (catalogue
filters, sync, math core, KPI engine, subscriptions) asks about GPU identity.

**Canonical models.** :func:`normalize_gpu_name` maps every provider's spelling of a GPU to one
canonical model name, the key that links offers to :class:`GPUBenchmark` rows. Variants buyers
care about are kept apart (H100 SXM / PCIe / NVL, A100 40 GB / 80 GB and SXM / PCIe, L40 / L40S,
A10 / A10G, RTX 6000 Ada / RTX A6000 / Quadro RTX 6000). Where a provider's name leaves a variant
open, the reported VRAM decides; where nothing decides, the documented default below applies.
Unknown names return ``None`` (offers keep the provider's tidied name, never dropped).

**Nominal VRAM.** :func:`nominal_vram_gb` is the datasheet memory of a canonical model; offers
store it (drivers and marketplaces report a little less, e.g. 44.99 GiB for an L40S) and keep the
provider's figure beside it.

**Non-GPU accelerators** (Google TPU, AWS Trainium and Inferentia) are refused on purpose:
:func:`non_gpu_accelerator` names them, the normaliser returns ``None`` and the adapters skip
such records (counted, not stored), because their "price per GPU-hour" compares with nothing.
Intel Gaudi is normalised (vendor ``INTEL``): it is sold and compared like a GPU.

**GPU families — the rule.** Every canonical model belongs to exactly one family
(:func:`gpu_family`); :func:`family_members` lists a family's variants.

* A **family name** ("H100", "A100", "L40S", "RTX 4090", "MI300X", "V100", …) used in any filter
  matches **every variant** of the family ("H100" → H100 SXM 80GB, H100 PCIe 80GB, H100 NVL 94GB).
* A **variant** ("H100 PCIe", "A100 40GB", "NVIDIA H100 80GB HBM3") matches **only itself** (the
  canonical model it normalises to).
* A family never contains another family: L40 and L40S, A10 and A10G, RTX 3090 and RTX 3090 Ti
  are separate families, because each is a product of its own (a family name that equalled one
  of its variants would make that variant impossible to select alone).

:func:`matching_gpu_models` applies the rule to one filter spelling; the catalogue (``offers``
``gpuModel``/``gpuFamily``), the math core, the KPI engine and the price subscriptions all call it.

Pure Python, no Django import: provider adapters call it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

NVIDIA = "NVIDIA"
AMD = "AMD"
INTEL = "INTEL"
VENDORS = (NVIDIA, AMD, INTEL)


@dataclass(frozen=True, slots=True)
class GPUModel:
    name: str
    vendor: str


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A canonical model: its family, vendor and nominal (datasheet) VRAM per GPU in GB."""

    name: str
    family: str
    vendor: str
    vram_gb: int


def _m(name: str, vram_gb: int, family: str | None = None, vendor: str = NVIDIA) -> ModelInfo:
    return ModelInfo(name=name, family=family or name, vendor=vendor, vram_gb=vram_gb)


#: Every canonical model the normaliser produces (a test checks the rules against this table).
#: VRAM from the vendors' datasheets (nvidia.com / amd.com / intel.com product pages).
MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        _m("GB200", 192),
        _m("GH200 96GB", 96, "GH200"),
        _m("GH200 144GB", 144, "GH200"),
        _m("B300", 288),
        _m("B200", 180),
        _m("B100", 192),
        _m("H200 SXM 141GB", 141, "H200"),
        _m("H200 NVL 141GB", 141, "H200"),
        _m("H100 SXM 80GB", 80, "H100"),
        _m("H100 PCIe 80GB", 80, "H100"),
        _m("H100 NVL 94GB", 94, "H100"),
        _m("H800", 80),
        _m("H20", 96),
        _m("A100 SXM 80GB", 80, "A100"),
        _m("A100 PCIe 80GB", 80, "A100"),
        _m("A100 40GB", 40, "A100"),
        _m("A800 80GB", 80, "A800"),
        _m("A800 40GB", 40, "A800"),
        _m("A40", 48),
        _m("A30", 24),
        _m("A16", 16),
        _m("A10G", 24),
        _m("A10", 24),
        _m("L40S", 48),
        _m("L40", 48),
        _m("L4", 24),
        _m("RTX PRO 6000", 96),
        _m("RTX 6000 Ada", 48),
        _m("RTX 5000 Ada", 32),
        _m("RTX 4000 Ada", 20),
        _m("RTX A6000", 48),
        _m("RTX A5000", 24),
        _m("RTX A4500", 20),
        _m("RTX A4000", 16),
        _m("Quadro RTX 8000", 48),
        _m("Quadro RTX 6000", 24),
        _m("RTX 5090", 32),
        _m("RTX 5080", 16),
        _m("RTX 4090", 24),
        _m("RTX 4080", 16),
        _m("RTX 4070 Ti", 12),
        _m("RTX 4070", 12),
        _m("RTX 3090 Ti", 24),
        _m("RTX 3090", 24),
        _m("RTX 3080 Ti", 12),
        _m("RTX 3080", 10),
        _m("RTX 3070 Ti", 8),
        _m("RTX 3070", 8),
        _m("RTX 3060 Ti", 8),
        _m("RTX 3060", 12),
        _m("RTX 2080 Ti", 11),
        _m("RTX 2080", 8),
        _m("V100 32GB", 32, "V100"),
        _m("V100 16GB", 16, "V100"),
        _m("P100 16GB", 16, "P100"),
        _m("P100 12GB", 12, "P100"),
        _m("P40", 24),
        _m("T4", 16),
        _m("M60", 8),
        _m("MI355X", 288, vendor=AMD),
        _m("MI325X", 256, vendor=AMD),
        _m("MI300X", 192, vendor=AMD),
        _m("MI250X", 128, vendor=AMD),
        _m("MI250", 128, vendor=AMD),
        _m("MI210", 64, vendor=AMD),
        _m("MI100", 32, vendor=AMD),
        _m("RX 7900 XTX", 24, vendor=AMD),
        _m("Gaudi 3", 128, vendor=INTEL),
        _m("Gaudi 2", 96, vendor=INTEL),
        _m("Gaudi", 32, vendor=INTEL),
    )
}

# Words that carry no identity: vendor and family prefixes, marketing and memory-type words.
_NOISE = re.compile(
    r"\b(NVIDIA|GEFORCE|TESLA|QUADRO|AMD|RADEON|INSTINCT|INTEL|HABANA|TENSOR|CORE|GPU|OAM|"
    r"HBM2E|HBM2|HBM3E|HBM3|GDDR6X|GDDR6|GDDR7)\b"
)
_MEMORY = re.compile(r"(?<![0-9])(\d{2,3})\s*(?:GB|GIB|G)(?![A-Z])")
_ACCELERATORS = (
    (re.compile(r"(?<![A-Z])TPU"), "TPU"),
    (re.compile(r"TRAINIUM|(?<![A-Z])TRN[12]"), "Trainium"),
    (re.compile(r"INFERENTIA|(?<![A-Z])INF[12](?![0-9])"), "Inferentia"),
)


def _clean(raw: str) -> str:
    text = raw.upper().replace("_", " ").replace("-", " ").replace("/", " ")
    text = re.sub(r"[()\[\],]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _identity(raw: str) -> str:
    """Upper-case, punctuation and vendor noise removed, single spaces."""
    return re.sub(r"\s+", " ", _NOISE.sub(" ", _clean(raw))).strip()


def _memory_hint(text: str, memory_gb: float | None) -> float | None:
    found = _MEMORY.search(text)
    if found:
        return float(found.group(1))
    return memory_gb


def _h100(text: str, mem: float | None) -> str:
    if "NVL" in text or (mem is not None and 90 <= mem <= 100):
        return "H100 NVL 94GB"
    if re.search(r"PCIE|PCI E", text):
        return "H100 PCIe 80GB"
    # "SXM", "SXM5" and the SXM part's driver name "H100 80GB HBM3"; also the default when the
    # provider names no form factor (SXM is what the large clouds rent as plain "H100").
    return "H100 SXM 80GB"


def _h200(text: str, mem: float | None) -> str:
    return "H200 NVL 141GB" if "NVL" in text else "H200 SXM 141GB"


def _gh200(text: str, mem: float | None) -> str:
    # "GH200 480GB" counts the Grace CPU's LPDDR5X too: only 120-200 GB means the HBM3e part.
    return "GH200 144GB" if mem is not None and 120 <= mem <= 200 else "GH200 96GB"


def _a100(text: str, mem: float | None) -> str:
    if mem is not None and mem <= 48:
        return "A100 40GB"
    if re.search(r"PCIE|PCI E", text):
        return "A100 PCIe 80GB"
    return "A100 SXM 80GB"


def _a800(text: str, mem: float | None) -> str:
    return "A800 40GB" if mem is not None and mem <= 48 else "A800 80GB"


def _v100(text: str, mem: float | None) -> str:
    return "V100 16GB" if mem is not None and mem <= 20 else "V100 32GB"


def _p100(text: str, mem: float | None) -> str:
    return "P100 12GB" if mem is not None and mem <= 13 else "P100 16GB"


def _rtx6000(text: str, mem: float | None) -> str:
    # "RTX 6000" alone is the Turing Quadro (24 GB); with 48 GB reported it is the Ada part.
    return "RTX 6000 Ada" if mem is not None and mem >= 40 else "Quadro RTX 6000"


def _rtx(number: str) -> Callable[[str, float | None], str]:
    def resolve(text: str, mem: float | None) -> str:
        ti = f"RTX {number} Ti"
        if re.search(number + r"\s?TI\b", text) and ti in MODELS:
            return ti
        return f"RTX {number}"

    return resolve


def _fixed(name: str) -> Callable[[str, float | None], str]:
    return lambda text, mem: name


_B = r"(?<![A-Z0-9])"  # no letter or digit before
_E = r"(?![0-9A-Z])"  # no letter or digit after
_N = r"(?<![0-9])"  # no digit before
_ND = r"(?![0-9])"  # no digit after
_AMPERE = r"(?:^|[^0-9A-Z]|RTX)\s?A\s?"

# Ordered: the first matching rule wins, so more specific names come first.
_RULES: list[tuple[re.Pattern[str], Callable[[str, float | None], str]]] = [
    (re.compile(_B + r"GH200" + _E), _gh200),
    (re.compile(_B + r"GB200" + _E), _fixed("GB200")),
    (re.compile(_B + r"B300" + _E), _fixed("B300")),
    (re.compile(_B + r"B200" + _E), _fixed("B200")),
    (re.compile(_B + r"B100" + _E), _fixed("B100")),
    (re.compile(_B + r"H200"), _h200),
    (re.compile(_B + r"H100"), _h100),
    (re.compile(_B + r"H800"), _fixed("H800")),
    (re.compile(_B + r"H20" + _E), _fixed("H20")),
    (re.compile(_B + r"A100"), _a100),
    (re.compile(_B + r"A800"), _a800),
    (re.compile(_B + r"A10G" + _E), _fixed("A10G")),
    (re.compile(_B + r"A10" + _E), _fixed("A10")),
    (re.compile(_B + r"A16" + _E), _fixed("A16")),
    (re.compile(_B + r"A30" + _E), _fixed("A30")),
    (re.compile(_B + r"A40" + _E), _fixed("A40")),
    (re.compile(_B + r"L40S" + _E), _fixed("L40S")),
    (re.compile(_B + r"L40" + _E), _fixed("L40")),
    (re.compile(_B + r"L4" + _E), _fixed("L4")),
    (re.compile(r"PRO\s?6000" + _ND), _fixed("RTX PRO 6000")),
    (re.compile(r"6000\s?ADA"), _fixed("RTX 6000 Ada")),
    (re.compile(_N + r"5000\s?ADA"), _fixed("RTX 5000 Ada")),
    (re.compile(_N + r"4000\s?ADA"), _fixed("RTX 4000 Ada")),
    (re.compile(_AMPERE + r"6000" + _ND), _fixed("RTX A6000")),
    (re.compile(_AMPERE + r"5000" + _ND), _fixed("RTX A5000")),
    (re.compile(_AMPERE + r"4500" + _ND), _fixed("RTX A4500")),
    (re.compile(_AMPERE + r"4000" + _ND), _fixed("RTX A4000")),
    (re.compile(_B + r"(?:Q\s?)?RTX\s?8000" + _ND), _fixed("Quadro RTX 8000")),
    (re.compile(_B + r"(?:Q\s?)?RTX\s?6000" + _ND), _rtx6000),
    (re.compile(_N + r"5090" + _ND), _rtx("5090")),
    (re.compile(_N + r"5080" + _ND), _rtx("5080")),
    (re.compile(_N + r"4090" + _ND), _rtx("4090")),
    (re.compile(_N + r"4080" + _ND), _rtx("4080")),
    (re.compile(_N + r"4070" + _ND), _rtx("4070")),
    (re.compile(_N + r"3090" + _ND), _rtx("3090")),
    (re.compile(_N + r"3080" + _ND), _rtx("3080")),
    (re.compile(_N + r"3070" + _ND), _rtx("3070")),
    (re.compile(_N + r"3060" + _ND), _rtx("3060")),
    (re.compile(_N + r"2080" + _ND), _rtx("2080")),
    (re.compile(_B + r"V100"), _v100),
    (re.compile(_B + r"P100"), _p100),
    (re.compile(_B + r"P40" + _E), _fixed("P40")),
    (re.compile(_B + r"T4" + _E), _fixed("T4")),
    (re.compile(_B + r"M60" + _E), _fixed("M60")),
    (re.compile(_B + r"MI355X" + _E), _fixed("MI355X")),
    (re.compile(_B + r"MI325X" + _E), _fixed("MI325X")),
    (re.compile(_B + r"MI300X" + _E), _fixed("MI300X")),
    (re.compile(_B + r"MI250X" + _E), _fixed("MI250X")),
    (re.compile(_B + r"MI250" + _E), _fixed("MI250")),
    (re.compile(_B + r"MI210" + _E), _fixed("MI210")),
    (re.compile(_B + r"MI100" + _E), _fixed("MI100")),
    (re.compile(_N + r"7900\s?XTX" + _E), _fixed("RX 7900 XTX")),
    (re.compile(r"GAUDI\s?3" + _ND + r"|" + _B + r"HL\s?325"), _fixed("Gaudi 3")),
    (re.compile(r"GAUDI\s?2" + _ND + r"|" + _B + r"HL\s?225"), _fixed("Gaudi 2")),
    (re.compile(r"GAUDI(?!\s?[0-9])|" + _B + r"HL\s?205"), _fixed("Gaudi")),
]


def non_gpu_accelerator(raw: str | None) -> str | None:
    """``"TPU"``, ``"Trainium"`` or ``"Inferentia"`` when ``raw`` names one of those
    accelerators (refused on purpose: see the module docstring), else ``None``."""
    if not raw or not isinstance(raw, str):
        return None
    text = _clean(raw)
    for pattern, kind in _ACCELERATORS:
        if pattern.search(text):
            return kind
    return None


def normalize_gpu_name(raw: str | None, memory_gb: float | None = None) -> GPUModel | None:
    """Map a provider's GPU name (and optionally its reported per-GPU VRAM in GB) to the canonical
    model, or ``None`` when the name is not a GPU this catalogue knows."""
    if not raw or not isinstance(raw, str):
        return None
    if memory_gb is not None and not isinstance(memory_gb, int | float):
        memory_gb = None
    return _normalize(raw, memory_gb)


@lru_cache(maxsize=8192)
def _normalize(raw: str, memory_gb: float | None) -> GPUModel | None:
    if non_gpu_accelerator(raw):
        return None
    text = _identity(raw)
    if not text:
        return None
    mem = _memory_hint(text, memory_gb)
    for pattern, resolve in _RULES:
        if pattern.search(text):
            name = resolve(text, mem)
            return GPUModel(name=name, vendor=MODELS[name].vendor)
    return None


def canonical_gpu_name(raw: str | None, memory_gb: float | None = None) -> str | None:
    model = normalize_gpu_name(raw, memory_gb)
    return model.name if model else None


def display_gpu_name(raw: str | None, memory_gb: float | None = None) -> str:
    """The canonical name when known; otherwise the provider's name, tidied (never dropped)."""
    known = canonical_gpu_name(raw, memory_gb)
    if known:
        return known
    return re.sub(r"\s+", " ", (raw or "").replace("_", " ")).strip()[:100] or "Unknown"


def model_info(canonical: str | None) -> ModelInfo | None:
    """The table row of a canonical model name (``None`` for names the catalogue does not know)."""
    return MODELS.get(canonical) if canonical else None


def nominal_vram_gb(canonical: str | None) -> int | None:
    """Datasheet VRAM per GPU (GB) of a canonical model, ``None`` when unknown."""
    info = model_info(canonical)
    return info.vram_gb if info else None


# --- families ------------------------------------------------------------------------------------
def _families() -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    for info in MODELS.values():
        members.setdefault(info.family, []).append(info.name)
    return {family: tuple(sorted(names)) for family, names in sorted(members.items())}


FAMILIES: dict[str, tuple[str, ...]] = _families()
#: Family names by their identity spelling ("RTX4090" and "geforce rtx 4090" → "RTX 4090").
_FAMILY_KEYS: dict[str, str] = {}
for _family in FAMILIES:
    _key = _identity(_family)
    _FAMILY_KEYS[_key] = _family
    _FAMILY_KEYS[_key.replace(" ", "")] = _family


def gpu_family(canonical: str | None) -> str | None:
    """The family of a canonical model ("H100 PCIe 80GB" → "H100"; "L40S" → "L40S"), ``None`` for
    a name the catalogue does not know. Takes the canonical name offers and benchmarks store."""
    info = model_info(canonical)
    return info.family if info else None


def family_members(family: str) -> tuple[str, ...]:
    """The canonical variants of a family, sorted ("A100" → A100 40GB, A100 PCIe 80GB, A100 SXM
    80GB); ``()`` when ``family`` is not a family name."""
    return FAMILIES.get(family, ())


def gpu_families() -> dict[str, tuple[str, ...]]:
    """Every family with its variants, by family name."""
    return dict(FAMILIES)


def gpu_family_list() -> list[tuple[str, str, tuple[str, ...]]]:
    """``(family, vendor, variants)`` for every family, sorted by family name."""
    return [(name, MODELS[members[0]].vendor, members) for name, members in FAMILIES.items()]


def family_named(spelling: str | None) -> str | None:
    """The family ``spelling`` names exactly ("h100", "NVIDIA H100", "rtx4090"), else ``None``.
    A variant's spelling ("H100 PCIe") is not a family name."""
    if not spelling or not isinstance(spelling, str):
        return None
    key = _identity(spelling)
    return _FAMILY_KEYS.get(key) or _FAMILY_KEYS.get(key.replace(" ", ""))


def matching_gpu_models(spelling: str | None) -> frozenset[str] | None:
    """The canonical models a filter value matches, by the family rule: a family name → all its
    variants; any other known spelling → the one variant it normalises to; ``None`` when the
    normaliser does not know the spelling (callers then match the provider's tidied name)."""
    family = family_named(spelling)
    if family is not None:
        return frozenset(FAMILIES[family])
    canonical = canonical_gpu_name(spelling)
    return frozenset((canonical,)) if canonical else None


def gpu_filter_matches(spellings: Iterable[str], gpu_type: str) -> bool:
    """True when an offer whose stored model is ``gpu_type`` matches any of ``spellings`` by the
    family rule (unknown spellings compare with the tidied name, case-insensitively)."""
    for spelling in spellings:
        models = matching_gpu_models(spelling)
        if models is not None:
            if gpu_type in models:
                return True
        elif gpu_type.lower() == display_gpu_name(spelling).lower():
            return True
    return False
