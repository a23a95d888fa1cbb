"""Browser tests: Debian's headless Chromium driven by Playwright (launched with
``executable_path``; Playwright never downloads a browser here), against a real server process
(daphne through the redacting entry point) on a private port, sharing the test database.

The browser is installed by the project's own setup (``make browser``, which ``.ci/run`` calls).
Without it these tests skip on the embedded run only; under ``REQUIRE_SERVICES=1`` (CI's second
run) a missing browser fails them. A failing test leaves a screenshot and the server log under
``var/test-artifacts/browser/``."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tests.conftest import services_required
from tests.realtime.live_servers import BASE_DIR, DaphneServer, ticking

ARTIFACTS = BASE_DIR / "var" / "test-artifacts" / "browser"
LOCAL_HOSTS = {"127.0.0.1"}
SUBSCRIPTION = "subscription LivePrices { priceUpdates { offerId gpuModel newPricePerHour } }"


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (required under REQUIRE_SERVICES=1: run `make browser`)")
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[Any]:
    outcome: Any = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    """After ``site``: Playwright's sync API runs an event loop in this thread, and the ORM
    refuses to run while one is running."""
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True)
        yield launched
        launched.close()


class Traffic:
    """Every request the page makes, and what was stopped for leaving 127.0.0.1."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.websockets: list[Any] = []

    def outside(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).hostname not in LOCAL_HOSTS]


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser: Any, traffic: Traffic, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            traffic.blocked.append(url)
            route.abort()

    context.route("**/*", guard)
    new_page = context.new_page()
    new_page.on("request", lambda r: traffic.requests.append(r.url))
    new_page.on("websocket", lambda ws: traffic.websockets.append(ws))
    new_page.set_default_timeout(20_000)
    yield new_page
    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        new_page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="module")
def site(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Demo catalogue, a signed-in user's token, and a server with the demo ticker moving prices
    every half second and anonymous WebSockets **off** (so a subscription needs the token)."""
    with django_db_blocker.unblock():
        call_command("load_benchmarks", verbosity=0)
        call_command("load_demo_data", verbosity=0)
        from apps.auth_app.models import Tenant, User
        from apps.auth_app.services import issue_tokens

        tenant = Tenant.objects.create(name=f"browser-{uuid.uuid4().hex[:8]}", ws_limit=5)
        user = User.objects.create_user(
            email="browser@acme.example",
            password="a long browser password",
            full_name="Browser Test",
            organization=tenant.name,
            tenant=tenant,
        )
        token = issue_tokens(user)["access_token"]
    server = DaphneServer(
        **ticking(0.5),
        WS_ALLOW_ANONYMOUS=0,
        GRAPHQL_GRAPHIQL=1,
    ).start()
    try:
        yield {"url": f"http://127.0.0.1:{server.port}", "token": token, "server": server}
    finally:
        save_server_log(server, "site")
        server.stop()
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


def save_server_log(server: DaphneServer, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}-server.log"
    target.write_text(server.log_text())
    return target
