"""The one list helper: declared sorts (and their reverse), filters, search and scope, a stable
order across pages, and one 422 naming the field at fault."""

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Role
from renxing.auth.principal import Principal
from renxing.errors import Invalid
from renxing.listing import Filter, ListQuery, ListSpec, list_page, sort_key_names

meta = MetaData()
things = Table(
    "things",
    meta,
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("kind", String),
    Column("size", Integer),
    Column("path", String),
)
SPEC = ListSpec(
    sorts={"name": things.c.name, "size": things.c.size},
    default_sort="name",
    tiebreaker=things.c.id,
    search=(things.c.name,),
    filters={"kind": Filter(things.c.kind), "min_size": Filter(things.c.size, ">=", parse=int)},
    scope=things.c.path,
)
ROWS = [
    {"id": i, "name": f"n{i % 3}", "kind": "ab"[i % 2], "size": i % 4, "path": f"/1/{2 + i % 2}/"} for i in range(1, 31)
] + [{"id": 31, "name": "50% off_", "kind": "a", "size": 9, "path": "/1/2/"}]


@pytest.fixture(scope="module")
def session():
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with Session(engine) as s:
        s.execute(insert(things), ROWS)
        yield s


def ids(session, query: ListQuery, actor: Principal | None = None) -> list[int]:
    return [row.id for row in list_page(session, select(things), SPEC, query, actor, scalars=False).items]


def field_of(exc: pytest.ExceptionInfo) -> str:
    return exc.value.errors[0].field


def test_sort_reverse_and_tiebreaker_give_stable_pages(session):
    every = []
    for page in range(1, 5):
        every += ids(session, ListQuery(page=page, size=8, sort="-size"))
    assert sorted(every) == list(range(1, 32))  # each row once, whatever the ties
    sizes = {r["id"]: r["size"] for r in ROWS}
    assert [sizes[i] for i in every] == sorted(sizes.values(), reverse=True)
    assert every == sorted(every, key=lambda i: (-sizes[i], -i))  # ties: the tiebreaker reversed too
    assert sort_key_names(SPEC) == ["name", "size", "-name", "-size"]


@pytest.mark.parametrize("sort", ["colour", "--size", "-", ""])
def test_a_bad_sort_is_one_error_naming_sort(session, sort):
    if sort == "":  # empty means the default
        assert ids(session, ListQuery(sort=sort))
        return
    with pytest.raises(Invalid) as exc:
        ids(session, ListQuery(sort=sort))
    assert field_of(exc) == "sort"


def test_filters_declared_parsed_and_named_when_bad(session):
    assert set(ids(session, ListQuery(size=100, filters={"kind": "b"}))) == {r["id"] for r in ROWS if r["kind"] == "b"}
    big = ids(session, ListQuery(size=100, filters={"min_size": "3"}))
    assert set(big) == {r["id"] for r in ROWS if r["size"] >= 3}
    with pytest.raises(Invalid) as exc:
        ids(session, ListQuery(filters={"min_size": "three"}))
    assert field_of(exc) == "min_size"
    with pytest.raises(Invalid) as exc:
        ids(session, ListQuery(filters={"owner": "x"}))
    assert field_of(exc) == "owner"


def test_search_is_literal_text(session):
    assert ids(session, ListQuery(q="50%")) == [31]
    assert ids(session, ListQuery(q="off_")) == [31]
    assert ids(session, ListQuery(q="%")) == [31]  # a wildcard character matches only itself
    with pytest.raises(Invalid) as exc:
        ids(session, ListQuery(q="x" * 101))
    assert field_of(exc) == "q"


def test_scope_narrows_to_the_actors_units(session):
    actor = Principal(user_id=1, username="w", role=Role.grid_worker, scope_paths=("/1/3/",))
    assert set(ids(session, ListQuery(size=100), actor)) == {r["id"] for r in ROWS if r["path"] == "/1/3/"}
    nobody = Principal(user_id=2, username="v", role=Role.volunteer)
    assert ids(session, ListQuery(), nobody) == []


@pytest.mark.parametrize(("page", "size", "field"), [(0, 10, "page"), (1, 0, "size"), (1, 10**6, "size")])
def test_bad_page_or_size_is_refused_before_any_query(session, page, size, field):
    with pytest.raises(Invalid) as exc:
        ids(session, ListQuery(page=page, size=size))
    assert field_of(exc) == field


def test_a_declared_descending_key_is_not_reversed_twice(session):
    spec = ListSpec(sorts={"-size": things.c.size.desc()}, default_sort="-size", tiebreaker=things.c.id)
    assert list_page(session, select(things), spec, ListQuery(size=1), scalars=False).items[0].size == 9
    with pytest.raises(Invalid) as exc:
        list_page(session, select(things), spec, ListQuery(sort="--size"), scalars=False)
    assert field_of(exc) == "sort"
