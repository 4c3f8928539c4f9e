"""Fixtures shared by more than one domain; every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``RENXING_TEST_POSTGRES_URL`` (default: the role and database that
``.ci/run`` creates). Each pytest process works in a database of its own, created and
dropped here, so parallel runs cannot disturb each other. Without PostgreSQL or Chromium
the tests that need them skip with the reason, except under ``CI=true`` where they fail.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from renxing import migrate
from renxing.app import create_app
from renxing.auth import passwords
from renxing.config import get_settings
from renxing.db import make_engine
from tests.kit.browser import CHROMIUM_ARGS, serve
from tests.kit.database import wipe
from tests.kit.events_world import Ev, build_ev
from tests.kit.factories import World, build_world

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("RENXING_TEST_POSTGRES_URL", "postgresql+psycopg://renxing:renxing@127.0.0.1:5432/renxing_test")
CHROMIUM = os.environ.get("RENXING_CHROMIUM", "/usr/bin/chromium")
BACKENDS = [b for b in os.environ.get("RENXING_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where everything must be present."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    # Still argon2id, at the lowest cost, so that hundreds of test logins stay quick.
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _postgres_engine() -> Iterator[Engine]:
    base = make_url(PG_URL)
    name = f"renxing_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable(f"PostgreSQL not reachable at {base.render_as_string()}: {exc.__class__.__name__}")
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_engine(request, tmp_path_factory) -> Iterator[Engine]:
    """A migrated database per backend, shared by the tests of one run."""
    if request.param == "postgresql":
        gen = _postgres_engine()
        engine = next(gen)
    else:
        gen = None
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    migrate.upgrade(engine)
    yield engine
    if gen is not None:
        next(gen, None)
    else:
        engine.dispose()


@pytest.fixture
def engine(backend_engine: Engine) -> Iterator[Engine]:
    """A clean database on each backend for one test."""
    wipe(backend_engine)
    yield backend_engine
    wipe(backend_engine)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, upgrade=False)) as c:
        yield c


@pytest.fixture
def world(engine: Engine) -> World:
    """The hand-made world of ``tests.kit.factories`` (two communities, every role)."""
    return build_world(engine)


@pytest.fixture
def media(tmp_path, monkeypatch) -> Path:
    """Photos under the test's own directory, notifications to the log only."""
    monkeypatch.setattr(get_settings(), "media_dir", str(tmp_path / "media"))
    monkeypatch.setattr(get_settings(), "notify_channels", "log")
    return tmp_path / "media"


@pytest.fixture
def ev(engine: Engine, media: Path) -> Ev:
    """The closed-loop world of ``tests.kit.events_world``: accounts on the chain, outlined units."""
    return build_ev(engine)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def browser(chromium_path):
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def server(engine: Engine, world: World) -> Iterator[str]:
    """The app on the test database with its world, served by uvicorn on a free local port."""
    with serve(engine) as url:
        yield url


@pytest.fixture
def page(browser, server: str):
    """A desktop-sized Chinese page at the login form; fails the test on any script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    pg = context.new_page()
    # Generous: CI machines run several test processes and Chromium at once.
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{server}/login")
    yield pg
    context.close()
    assert not errors, errors
