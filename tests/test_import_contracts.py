"""The enforced dependency graph (``.importlinter``; CI also runs ``lint-imports`` directly):
apps never import the facades, pure modules import no Django, the GPU/costs leaf imports no other
app, and there are no cycles between apps nor between the modules of one app."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_cover_what_the_architecture_promises():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    contracts = {s.split(":")[-1]: config[s] for s in config.sections() if ":contract:" in s}
    facades = contracts["apps-below-facades"]["forbidden_modules"].split()
    assert {"schema", "gpubroker.api"} <= set(facades)
    assert "django" in contracts["pure-modules"]["forbidden_modules"].split()
    assert contracts["apps-acyclic"]["type"] == "acyclic_siblings"
    assert contracts["apps-acyclic"]["ancestors"].split() == ["apps"]
