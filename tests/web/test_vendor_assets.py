"""The committed GraphiQL build: every file is the pinned npm package's bytes, with its licence."""

from __future__ import annotations

import pytest

from gpubroker.web import vendor


@pytest.mark.parametrize("file", vendor.FILES, ids=lambda f: f.static_path)
def test_committed_file_matches_its_pinned_hash_and_carries_its_licence(file):
    path = vendor.VENDOR_DIR / f"{file.package}-{file.version}" / file.name
    assert vendor.sha384(path.read_bytes()) == file.sha384
    licence = (path.parent / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    assert file.tarball_integrity.startswith("sha512-")


def test_sha384_is_the_sri_encoding():
    # the Subresource Integrity form: base64 of the raw SHA-384 digest of b"" (well known)
    assert vendor.sha384(b"") == "OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
