"""The third-party browser builds the GraphiQL page uses, committed under
``gpubroker/web/static/web/vendor/<package>-<version>/`` with their licences, so the page works
on a network without internet and nothing is fetched at run time.

Each file is byte-for-byte the one in the npm package (the ``sha384`` values are the same
Subresource Integrity hashes strawberry's own GraphiQL page pins for the CDN copies of react,
react-dom and graphiql). The template puts them in ``integrity=`` attributes, so a modified file
is refused by the browser; ``tests/web/test_vendor_assets.py`` checks them and the licences.

To update: change the versions here, then ``python -m gpubroker.web.vendor`` (``npm pack`` from
the npm registry; checks each tarball's published ``sha512`` integrity) and update the hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "web" / "vendor"


@dataclass(frozen=True)
class VendoredFile:
    package: str
    version: str
    #: path inside the npm tarball (under ``package/``)
    source: str
    sha384: str
    #: npm's published integrity of the whole tarball
    tarball_integrity: str
    licence: str = "LICENSE"

    @property
    def name(self) -> str:
        return Path(self.source).name

    @property
    def static_path(self) -> str:
        """The path for ``{% static %}``."""
        return f"web/vendor/{self.package}-{self.version}/{self.name}"

    @property
    def integrity(self) -> str:
        return f"sha384-{self.sha384}"


_REACT = (
    "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNl"
    "n0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ=="
)
_REACT_DOM = (
    "sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk8"
    "1n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g=="
)
_GRAPHIQL = (
    "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO"
    "/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw=="
)
_GRAPHQL_WS = (
    "sha512-E1uccsZxt/96jH/OwmLPuXMACILs76pKF2i3W861"
    "LpKBCYtGIyPQGtWLuBLkND4ox1KHns70e83PS4te50nvPQ=="
)

REACT = VendoredFile(
    "react",
    "18.2.0",
    "umd/react.production.min.js",
    "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    _REACT,
)
REACT_DOM = VendoredFile(
    "react-dom",
    "18.2.0",
    "umd/react-dom.production.min.js",
    "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    _REACT_DOM,
)
GRAPHIQL_JS = VendoredFile(
    "graphiql",
    "3.8.3",
    "graphiql.min.js",
    "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    _GRAPHIQL,
)
GRAPHIQL_CSS = VendoredFile(
    "graphiql",
    "3.8.3",
    "graphiql.min.css",
    "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    _GRAPHIQL,
)
GRAPHQL_WS = VendoredFile(
    "graphql-ws",
    "5.16.2",
    "umd/graphql-ws.min.js",
    "+EVxFEOpy8LWPRQcpntm0FKN2O+BzrMNSL0G3HIgVWFmeb6xqZqjuLivrQUTXZKi",
    _GRAPHQL_WS,
    licence="LICENSE.md",
)
FILES = (REACT, REACT_DOM, GRAPHIQL_JS, GRAPHIQL_CSS, GRAPHQL_WS)


def sha384(data: bytes) -> str:
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def fetch(files: tuple[VendoredFile, ...] = FILES) -> None:  # pragma: no cover - maintainer tool
    """Re-fetch the pinned builds with ``npm pack`` and write them (and licences) in place."""
    with tempfile.TemporaryDirectory() as tmp:
        for spec in sorted({(f.package, f.version, f.tarball_integrity) for f in files}):
            package, version, integrity = spec
            out = subprocess.run(  # noqa: S603 - fixed arguments
                ["npm", "pack", f"{package}@{version}", "--json"],  # noqa: S607
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            )
            info = json.loads(out.stdout)[0]
            if info["integrity"] != integrity:
                sys.exit(f"{package}@{version}: tarball integrity {info['integrity']} != pinned")
            with tarfile.open(Path(tmp) / info["filename"]) as tar:
                for vendored in (f for f in files if f.package == package):
                    member = tar.extractfile(f"package/{vendored.source}")
                    licence = tar.extractfile(f"package/{vendored.licence}")
                    assert member is not None and licence is not None
                    data = member.read()
                    if sha384(data) != vendored.sha384:
                        sys.exit(f"{vendored.static_path}: sha384 differs from the pinned hash")
                    target = VENDOR_DIR / f"{package}-{version}"
                    target.mkdir(parents=True, exist_ok=True)
                    (target / vendored.name).write_bytes(data)
                    (target / "LICENSE").write_bytes(licence.read())
                    print(f"wrote {vendored.static_path}")


if __name__ == "__main__":  # pragma: no cover
    fetch()
