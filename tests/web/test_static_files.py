"""Static files under the production storage: collected with content-hashed names and gzip
copies, served by the app (whitenoise) with far-future caching, compressed on request; the
admin's stylesheet and the vendored GraphiQL build included, byte-for-byte."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client, override_settings

from gpubroker.web import vendor

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "gpubroker.web.static_files.StaticFilesStorage"},
}


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=str(root), STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


def manifest(root) -> dict[str, str]:
    return json.loads((root / "staticfiles.json").read_text())["paths"]


def test_collected_files_are_hashed_and_gzipped_only_hashed_copies_kept(collected):
    paths = manifest(collected)
    for name in (
        "admin/css/base.css",
        "ninja/swagger-ui-bundle.js",
        "web/site.css",
        vendor.GRAPHIQL_JS.static_path,
    ):
        hashed = paths[name]
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", hashed), hashed
        assert (collected / hashed).is_file() and (collected / f"{hashed}.gz").is_file()
        assert not (collected / f"{hashed}.br").exists()  # gzip only (see static_files.py)
        assert not (collected / name).exists()  # WHITENOISE_KEEP_ONLY_HASHED_FILES


def test_vendored_builds_keep_their_published_bytes(collected):
    """A source-map comment naming a map that is not shipped stays, so SRI hashes hold."""
    for file in vendor.FILES:
        data = (collected / manifest(collected)[file.static_path]).read_bytes()
        assert vendor.sha384(data) == file.sha384, file.static_path


@pytest.mark.django_db
def test_served_by_the_app_with_immutable_caching_and_gzip(collected):
    with override_settings(
        STATIC_ROOT=str(collected),
        STORAGES=PRODUCTION_STORAGES,
        WHITENOISE_USE_FINDERS=False,
        DEBUG=False,
    ):
        client = Client()
        hashed = manifest(collected)["admin/css/base.css"]
        plain = client.get(f"/static/{hashed}")
        assert plain.status_code == 200
        assert plain["Content-Type"].startswith("text/css")
        assert (
            "immutable" in plain["Cache-Control"] and "max-age=315360000" in plain["Cache-Control"]
        )
        assert b"--body-fg" in plain.content  # the admin's stylesheet
        zipped = client.get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip, br")
        assert zipped["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.content) == plain.content
        assert client.get("/static/admin/css/base.css").status_code == 404  # unhashed: gone
        # templates link the hashed name
        html = client.get("/admin/login/").content.decode()
        assert f"/static/{hashed}" in html
        # a conditional request is answered 304 without a body
        again = client.get(f"/static/{hashed}", HTTP_IF_NONE_MATCH=plain["ETag"])
        assert again.status_code == 304 and again.content == b""


def test_graphiql_template_pins_every_vendored_file_with_its_integrity(rf):
    from gpubroker.web.graphiql import graphiql_page

    html = graphiql_page(rf.get("/graphql/")).content.decode()
    for file in vendor.FILES:
        assert f'integrity="{file.integrity}"' in html, file.static_path
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []
    assert render_to_string("ninja/swagger.html", {"api": None}).count("/static/ninja/") >= 2
