"""A bounded schemathesis run over every operation of the JSON API (Open311 included): no 5xx,
and every answer conforms to the schema the OpenAPI document gives for its status.

Every operation gets the schema's examples and 5 generated cases, valid and invalid, derandomised
so that a run is repeatable, on both databases, as a community staff member and anonymously,
sent to the app in-process. The staff member gets a fresh bearer token per operation, so that a
generated logout cannot lock the rest of the run out. About two minutes in all.

``RENXING_FUZZ_DEEP=1`` adds schemathesis' coverage phase on PostgreSQL (the narrower integers)
as the staff member: boundary values, wrong types and unexpected methods of every parameter and
body field, about 35 more cases per operation (two more minutes).
"""

import os
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine

from renxing.app import create_app
from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.db import make_engine, transaction
from tests.kit.database import wipe
from tests.kit.factories import World, build_world

BASE = {
    "seed": 10,
    "generation": {"mode": "all", "max-examples": 5, "deterministic": True, "no-shrink": True, "database": "none"},
    "suppress-health-check": ["all"],
}
LIGHT = {**BASE, "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
DEEP = {**BASE, "phases": {"stateful": {"enabled": False}}}


def load(config: dict) -> schemathesis.BaseSchema:
    # The schema does not depend on the database: read it from an app that never connects.
    app = create_app(make_engine("sqlite://"), upgrade=False)
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=schemathesis.Config.from_dict(config))


schema = load(LIGHT)


@pytest.fixture(scope="module")
def fuzzed(backend_engine: Engine) -> Iterator[tuple[Engine, World, object]]:
    """One world per backend for the whole module: the cases' writes pile up in it, as in real use."""
    wipe(backend_engine)
    world = build_world(backend_engine)
    yield backend_engine, world, create_app(backend_engine, upgrade=False)
    wipe(backend_engine)


def staff_headers(engine: Engine, world: World) -> Callable[[str], dict[str, str]]:
    tokens: dict[str, str] = {}

    def headers(operation: str) -> dict[str, str]:
        if operation not in tokens:
            with transaction(engine) as s:
                tokens[operation], _ = auth_service.start_session(s, s.get(User, world.users["secretary"]), "bearer")
        return {"Authorization": f"Bearer {tokens[operation]}"}

    return headers


@pytest.fixture(scope="module", params=["staff", "anonymous"])
def identity(request, fuzzed) -> Callable[[str], dict[str, str]]:
    engine, world, _ = fuzzed
    return staff_headers(engine, world) if request.param == "staff" else lambda _: {}


CHECKS = [not_a_server_error, response_schema_conformance]


@schema.parametrize()
def test_no_server_error_and_answers_match_the_schema(case, fuzzed, identity):
    case.call_and_validate(app=fuzzed[2], headers=identity(case.operation.label), checks=CHECKS)


if os.environ.get("RENXING_FUZZ_DEEP"):
    deep = load(DEEP)

    @pytest.fixture(scope="module")
    def staff(fuzzed) -> Callable[[str], dict[str, str]]:
        return staff_headers(fuzzed[0], fuzzed[1])

    @pytest.mark.parametrize("backend_engine", ["postgresql"], indirect=True)
    @deep.parametrize()
    def test_no_server_error_at_the_boundaries(case, fuzzed, staff):
        case.call_and_validate(app=fuzzed[2], headers=staff(case.operation.label), checks=CHECKS)
