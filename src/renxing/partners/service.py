"""Use cases of the partner register: scoped lists, create and edit (audited)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.directory import account_role
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.errors import Collector, Conflict, Forbidden, NotFound
from renxing.grid.scope import community_in_scope, in_scope, sees, visible_clause
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.partners.directory import active_in_community
from renxing.partners.models import Organization, OrgKind
from renxing.partners.schemas import OrganizationIn, OrganizationPatch
from renxing.people.service import LANDLINE, MOBILE, normalise_phone

# Organizations live at their community's path; a user sees those of the communities in scope and
# of the community a lower scope (an area, a building) lies in, so the scope is applied by hand.
ORGANIZATIONS = ListSpec(
    sorts={"kind": (Organization.kind, Organization.name), "name": Organization.name},
    default_sort="kind",
    tiebreaker=Organization.id,
    search=(Organization.name,),
    filters={
        "kind": Filter(Organization.kind, parse=lambda v: OrgKind(v).value),
        "active": Filter(Organization.active),
    },
)


def list_orgs(session: Session, actor: Principal, query: ListQuery) -> Page[Organization]:
    actor.require(Perm.partners_read)
    stmt = select(Organization)
    clause = visible_clause(Organization.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return list_page(session, stmt, ORGANIZATIONS, query)


def get_org(session: Session, actor: Principal, org_id: int) -> Organization:
    actor.require(Perm.partners_read)
    org = session.get(Organization, org_id)
    if org is None or not sees(actor, org.path):
        raise NotFound(_("合作单位 {org_id} 不存在").format(org_id=org_id))
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
        errors.add("kind", _("应为 {join} 之一").format(join=", ".join(OrgKind)), value=values["kind"])
    if values.get("contact_phone"):
        phone = normalise_phone(values["contact_phone"])
        if not phone or not (MOBILE.match(phone) or LANDLINE.match(phone)):
            errors.add("contact_phone", _("电话号码格式错误"), value=values["contact_phone"])
        values["contact_phone"] = phone
    if values.get("user_id") is not None and account_role(session, values["user_id"]) != Role.partner.value:
        errors.add("user_id", _("应为合作单位角色的账号"), value=values["user_id"])


def _unique(session: Session, unit_id: int, name: str, own_id: int | None) -> None:
    other = session.scalar(select(Organization.id).where(Organization.unit_id == unit_id, Organization.name == name))
    if other is not None and other != own_id:
        raise Conflict(_("本社区已有同名单位"))


def create_org(session: Session, actor: Principal, data: OrganizationIn) -> Organization:
    actor.require(Perm.partners_write)
    community = community_in_scope(session, actor, data.unit_id, write=True)
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
    if not in_scope(actor, org.path):
        raise Forbidden(_("不在您的管理范围内"))
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in ("name", "kind", "active"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
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
    return active_in_community(session, community_path)
