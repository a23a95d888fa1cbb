"""GPU name normalisation: one function maps every provider's spelling of a GPU to one canonical
model name, the key that links offers to :class:`GPUBenchmark` rows.

Variants buyers care about are kept apart (H100 SXM / PCIe / NVL, A100 40 GB / 80 GB and SXM /
PCIe, L40 / L40S, A10 / A10G, RTX 6000 Ada / RTX A6000). Where a provider's name leaves a variant
open, the reported VRAM decides; where nothing decides, the documented default below applies.

Pure Python, no Django import: provider adapters call it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

NVIDIA = "NVIDIA"
AMD = "AMD"


@dataclass(frozen=True, slots=True)
class GPUModel:
    name: str
    vendor: str


# Words that carry no identity: vendor and family prefixes, marketing and memory-type words.
_NOISE = re.compile(
    r"\b(NVIDIA|GEFORCE|TESLA|QUADRO|AMD|RADEON|INSTINCT|TENSOR|CORE|GPU|OAM|HBM2E|HBM2|HBM3E|"
    r"GDDR6X|GDDR6|GDDR7)\b"
)
_MEMORY = re.compile(r"(?<![0-9])(\d{2,3})\s*(?:GB|GIB|G)(?![A-Z])")


def _clean(raw: str) -> str:
    text = raw.upper().replace("_", " ").replace("-", " ").replace("/", " ")
    text = re.sub(r"[()\[\],]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


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


def _a100(text: str, mem: float | None) -> str:
    if mem is not None and mem <= 48:
        return "A100 40GB"
    if re.search(r"PCIE|PCI E", text):
        return "A100 PCIe 80GB"
    return "A100 SXM 80GB"


def _v100(text: str, mem: float | None) -> str:
    return "V100 16GB" if mem is not None and mem <= 20 else "V100 32GB"


def _rtx(number: str) -> Callable[[str, float | None], str]:
    def resolve(text: str, mem: float | None) -> str:
        suffix = " Ti" if re.search(number + r"\s?TI\b", text) else ""
        return f"RTX {number}{suffix}"

    return resolve


def _fixed(name: str) -> Callable[[str, float | None], str]:
    return lambda text, mem: name


_B = r"(?<![A-Z0-9])"  # no letter or digit before
_E = r"(?![0-9A-Z])"  # no letter or digit after

# Ordered: the first matching rule wins, so more specific names come first.
_RULES: list[tuple[re.Pattern[str], Callable[[str, float | None], str], str]] = [
    (re.compile(_B + r"GH200" + _E), _fixed("GH200 96GB"), NVIDIA),
    (re.compile(_B + r"GB200" + _E), _fixed("GB200"), NVIDIA),
    (re.compile(_B + r"B200" + _E), _fixed("B200"), NVIDIA),
    (re.compile(_B + r"H200"), _h200, NVIDIA),
    (re.compile(_B + r"H100"), _h100, NVIDIA),
    (re.compile(_B + r"A100"), _a100, NVIDIA),
    (re.compile(_B + r"A10G" + _E), _fixed("A10G"), NVIDIA),
    (re.compile(_B + r"A10" + _E), _fixed("A10"), NVIDIA),
    (re.compile(_B + r"A40" + _E), _fixed("A40"), NVIDIA),
    (re.compile(_B + r"L40S" + _E), _fixed("L40S"), NVIDIA),
    (re.compile(_B + r"L40" + _E), _fixed("L40"), NVIDIA),
    (re.compile(_B + r"L4" + _E), _fixed("L4"), NVIDIA),
    (re.compile(r"6000\s?ADA"), _fixed("RTX 6000 Ada"), NVIDIA),
    (re.compile(r"(?<![0-9])5000\s?ADA"), _fixed("RTX 5000 Ada"), NVIDIA),
    (re.compile(r"(?<![0-9])4000\s?ADA"), _fixed("RTX 4000 Ada"), NVIDIA),
    (re.compile(r"(?:^|[^0-9A-Z]|RTX)\s?A\s?6000(?![0-9])"), _fixed("RTX A6000"), NVIDIA),
    (re.compile(r"(?:^|[^0-9A-Z]|RTX)\s?A\s?5000(?![0-9])"), _fixed("RTX A5000"), NVIDIA),
    (re.compile(r"(?:^|[^0-9A-Z]|RTX)\s?A\s?4500(?![0-9])"), _fixed("RTX A4500"), NVIDIA),
    (re.compile(r"(?:^|[^0-9A-Z]|RTX)\s?A\s?4000(?![0-9])"), _fixed("RTX A4000"), NVIDIA),
    (re.compile(r"(?<![0-9])5090(?![0-9])"), _rtx("5090"), NVIDIA),
    (re.compile(r"(?<![0-9])5080(?![0-9])"), _rtx("5080"), NVIDIA),
    (re.compile(r"(?<![0-9])4090(?![0-9])"), _rtx("4090"), NVIDIA),
    (re.compile(r"(?<![0-9])4080(?![0-9])"), _rtx("4080"), NVIDIA),
    (re.compile(r"(?<![0-9])4070(?![0-9])"), _rtx("4070"), NVIDIA),
    (re.compile(r"(?<![0-9])3090(?![0-9])"), _rtx("3090"), NVIDIA),
    (re.compile(r"(?<![0-9])3080(?![0-9])"), _rtx("3080"), NVIDIA),
    (re.compile(r"(?<![0-9])3070(?![0-9])"), _rtx("3070"), NVIDIA),
    (re.compile(r"(?<![0-9])2080(?![0-9])"), _rtx("2080"), NVIDIA),
    (re.compile(_B + r"V100"), _v100, NVIDIA),
    (re.compile(_B + r"T4" + _E), _fixed("T4"), NVIDIA),
    (re.compile(_B + r"MI325X" + _E), _fixed("MI325X"), AMD),
    (re.compile(_B + r"MI300X" + _E), _fixed("MI300X"), AMD),
    (re.compile(_B + r"MI250X" + _E), _fixed("MI250X"), AMD),
    (re.compile(_B + r"MI250" + _E), _fixed("MI250"), AMD),
    (re.compile(_B + r"MI210" + _E), _fixed("MI210"), AMD),
    (re.compile(r"(?<![0-9])7900\s?XTX(?![0-9A-Z])"), _fixed("RX 7900 XTX"), AMD),
]


def normalize_gpu_name(raw: str | None, memory_gb: float | None = None) -> GPUModel | None:
    """Map a provider's GPU name (and optionally its reported per-GPU VRAM in GB) to the canonical
    model, or ``None`` when the name is not a GPU this catalogue knows."""
    if not raw or not isinstance(raw, str):
        return None
    text = _NOISE.sub(" ", _clean(raw))
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return None
    mem = _memory_hint(text, memory_gb)
    for pattern, resolve, vendor in _RULES:
        if pattern.search(text):
            return GPUModel(name=resolve(text, mem), vendor=vendor)
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
