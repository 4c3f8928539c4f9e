"""Use cases of the partner register: scoped lists, create and edit (audited)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.bounds import Id
from renxing.db import contains
from renxing.drills.service import visible_clause as community_visible
from renxing.errors import Collector, Conflict, FieldError, Forbidden, Invalid, NotFound
from renxing.grid.models import GridUnit, Level
from renxing.listing import Page, paginate
from renxing.partners.models import Organization, OrgKind
from renxing.people.service import LANDLINE, MOBILE, normalise_phone


class OrganizationIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    unit_id: Id = Field(description="the community it serves")
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(description=", ".join(OrgKind))
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = None
    user_id: Id | None = Field(default=None, description="its account (role partner), if it has one")
    services: str | None = None
    active: bool = True


class OrganizationPatch(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: str | None = None
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = None
    user_id: Id | None = None
    services: str | None = None
    active: bool | None = None


def visible_clause(actor: Principal):
    """Organizations of the communities in scope, and of the community a lower scope lies in."""
    return community_visible(Organization.path, actor)


def org_query(actor: Principal, *, q: str | None = None, kind: str | None = None, active: bool | None = None) -> Select:
    actor.require(Perm.partners_read)
    stmt = select(Organization)
    clause = visible_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if q:
        stmt = stmt.where(contains(Organization.name, q.strip()))
    if kind:
        if kind not in OrgKind.__members__:
            raise Invalid("类别无效 / bad kind", [FieldError("kind", f"one of {', '.join(OrgKind)}", value=kind)])
        stmt = stmt.where(Organization.kind == kind)
    if active is not None:
        stmt = stmt.where(Organization.active.is_(active))
    return stmt


def list_orgs(session: Session, actor: Principal, *, page: int = 1, size: int | None = None, **filters) -> Page[Any]:
    return paginate(session, org_query(actor, **filters).order_by(Organization.kind, Organization.name), page, size)


def get_org(session: Session, actor: Principal, org_id: int) -> Organization:
    actor.require(Perm.partners_read)
    org = session.get(Organization, org_id)
    if org is None or not (actor.is_global or actor.sees_unit(org.path)):
        raise NotFound(f"合作单位不存在 / organization {org_id} not found")
    return org


def present(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "unit_id": org.unit_id,
        "name": org.name,
        "kind": org.kind,
        "contact_name": org.contact_name,
        "contact_phone": org.contact_phone,  # a work phone of the organization, not personal data
        "user_id": org.user_id,
        "services": org.services,
        "active": org.active,
    }


def _check(session: Session, values: dict[str, Any], errors: Collector) -> None:
    if values.get("kind") is not None and values["kind"] not in OrgKind.__members__:
        errors.add("kind", f"应为 / must be one of {', '.join(OrgKind)}", value=values["kind"])
    if values.get("contact_phone"):
        phone = normalise_phone(values["contact_phone"])
        if not phone or not (MOBILE.match(phone) or LANDLINE.match(phone)):
            errors.add("contact_phone", "电话号码格式错误 / not a valid phone number", value=values["contact_phone"])
        values["contact_phone"] = phone
    if values.get("user_id") is not None:
        user = session.get(User, values["user_id"])
        if user is None or user.role != Role.partner.value:
            errors.add(
                "user_id", "应为合作单位角色的账号 / must be an account of role partner", value=values["user_id"]
            )


def _unique(session: Session, unit_id: int, name: str, own_id: int | None) -> None:
    other = session.scalar(select(Organization.id).where(Organization.unit_id == unit_id, Organization.name == name))
    if other is not None and other != own_id:
        raise Conflict("本社区已有同名单位 / an organization of this name is already registered here")


def create_org(session: Session, actor: Principal, data: OrganizationIn) -> Organization:
    actor.require(Perm.partners_write)
    community = session.get(GridUnit, data.unit_id)
    if community is None or community.level != Level.community.value:
        raise Invalid("请选择社区 / choose a community", [FieldError("unit_id", "不是社区 / not a community")])
    if not actor.covers_path(community.path):
        raise Forbidden("不在您的管理范围内 / this community is outside your scope")
    values = data.model_dump()
    errors = Collector()
    _check(session, values, errors)
    errors.raise_if_any()
    _unique(session, community.id, values["name"], None)
    org = Organization(**values, path=community.path)
    session.add(org)
    session.flush()
    audit.record(session, actor, "create", "partner_organization", org.id, after=audit.snapshot(org))
    return org


def update_org(session: Session, actor: Principal, org_id: int, patch: OrganizationPatch) -> Organization:
    org = get_org(session, actor, org_id)
    actor.require(Perm.partners_write)
    if not actor.covers_path(org.path):
        raise Forbidden("不在您的管理范围内 / this community is outside your scope")
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in ("name", "kind", "active"):
        if key in changes and changes[key] is None:
            errors.add(key, "不能为空 / may not be empty")
    _check(session, changes, errors)
    errors.raise_if_any()
    if "name" in changes:
        _unique(session, org.unit_id, changes["name"], org.id)
    before = audit.snapshot(org)
    for key, value in changes.items():
        setattr(org, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(org))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    if new:
        audit.record(session, actor, "update", "partner_organization", org.id, before=old, after=new)
    return org


def community_orgs(session: Session, actor: Principal, community_path: str) -> list[Organization]:
    """The active organizations of one community, for pickers."""
    actor.require(Perm.partners_read)
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.path == community_path, Organization.active.is_(True))
            .order_by(Organization.kind, Organization.name)
        )
    )
