"""The deployment files, as far as they can be checked without a Docker engine: the Dockerfile
(multi-stage, non-root, healthcheck, the redacting entry point that ``make run`` uses), the
compose file (services of seed D10, wired to each other and to deploy/nginx.conf). ``.ci/run`` adds
``docker compose config`` where the Docker client has the compose plugin."""

from __future__ import annotations

import re

import yaml

from tests.realtime.live_servers import BASE_DIR

DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
NGINX = (BASE_DIR / "deploy" / "nginx.conf").read_text()
MAKEFILE = (BASE_DIR / "Makefile").read_text()


def test_dockerfile_is_multi_stage_non_root_with_healthcheck_and_the_redacting_entry_point():
    stages = re.findall(r"^FROM (\S+) AS (\w+)", DOCKERFILE, flags=re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    assert re.search(r"^USER 10001$", runtime, flags=re.M)
    assert "HEALTHCHECK" in runtime and "/health" in runtime
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    entry = re.search(r'^ENTRYPOINT \["python", "-m", "([\w.]+)"\]', runtime, flags=re.M)
    assert entry is not None
    # the same server module `make run` serves with
    assert f"-m {entry.group(1)} " in MAKEFILE
    assert "collectstatic" in DOCKERFILE.split("AS runtime", 1)[0]


def test_compose_has_the_d10_services_wired_together():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "migrate", "web1", "web2", "sync", "nginx"} <= set(services)
    for web in ("web1", "web2"):
        env = services[web]["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DJANGO_SETTINGS_MODULE"] == "gpubroker.settings.production"
        assert (
            services[web]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
        assert "gpubroker.asgi:application" in services[web]["command"]
    assert (
        "sync_offers" in services["sync"]["entrypoint"]
        and "--watch" in services["sync"]["entrypoint"]
    )
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    upstreams = re.findall(r"^\s*server (\w+):8000\b", NGINX, flags=re.M)
    assert upstreams == ["web1", "web2"] * 2  # the HTTP pool and the WebSocket pool
    assert {k: v["condition"] for k, v in services["nginx"]["depends_on"].items()} == {
        "web1": "service_healthy",
        "web2": "service_healthy",
    }


def test_nginx_conf_keeps_query_strings_out_and_upgrades_both_websockets():
    log_format = re.search(r"log_format noquery (.*?);", NGINX, flags=re.S)
    assert log_format and "$uri" in log_format.group(1)
    assert "$request_uri" not in log_format.group(1) and "$args" not in log_format.group(1)
    assert "$request " not in log_format.group(1)  # $request carries the query string
    assert NGINX.count("least_conn;") == 2
    # WebSockets are balanced in a pool of their own, so open subscriptions do not steer HTTP
    assert re.search(r"map \$http_upgrade \$graphql_upstream \{\s*default gpubroker_ws;", NGINX)
    websocket = re.search(
        r"location ~ \^/\(graphql\|ws\)/\$ \{(.*?)\n        \}", NGINX, flags=re.S
    )
    assert websocket is not None
    assert "proxy_set_header Upgrade $http_upgrade;" in websocket.group(1)
    assert "proxy_set_header Connection $connection_upgrade;" in websocket.group(1)
