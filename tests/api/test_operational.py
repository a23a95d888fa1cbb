"""Health, trace ids, the checked-in SDL and production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from strawberry.printer import print_schema

from schema import schema

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db
def test_health_reports_each_part(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_health_is_503_naming_the_failing_part(client, monkeypatch):
    from gpubroker import health

    def broken() -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(health, "_check_cache", broken)
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert "cache down" not in response.content.decode()


@pytest.mark.django_db
def test_every_response_carries_a_trace_id_and_accepts_a_sane_incoming_one(client):
    fresh = client.get("/health")
    assert len(fresh["X-Trace-Id"]) == 32
    echoed = client.get("/health", HTTP_X_REQUEST_ID="abc-12345678")
    assert echoed["X-Trace-Id"] == "abc-12345678"
    hostile = client.get("/health", HTTP_X_REQUEST_ID="x\nInjected: 1")
    assert hostile["X-Trace-Id"] != "x\nInjected: 1"


def test_checked_in_sdl_equals_the_live_schema():
    checked_in = (ROOT / "graphql" / "schema.graphql").read_text()
    assert checked_in.strip() == print_schema(schema).strip(), (
        "graphql/schema.graphql is stale: run `make schema`"
    )


def test_no_python_package_named_graphql():
    assert not (ROOT / "graphql" / "__init__.py").exists()


def _run_production_settings(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "gpubroker.settings.production"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run_production_settings({"ALLOWED_HOSTS": "example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_starts_with_its_variables():
    from cryptography.fernet import Fernet

    from apps.auth_app.keys import generate_private_pem

    result = _run_production_settings(
        {
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "example.com",
            "JWT_PRIVATE_KEY": generate_private_pem(2048),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
    )
    assert result.returncode == 0, result.stderr
