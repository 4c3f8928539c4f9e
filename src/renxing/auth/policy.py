"""Roles, what each may do, and which personal fields each sees in the clear. Pure: no I/O.

The rule of least necessity (PIPL art. 6): a role sees a personal field in the clear only
where its work needs it, and each such read is audited by the service layer.
"""

from enum import StrEnum


class Role(StrEnum):
    resident = "resident"
    grid_worker = "grid_worker"
    building_leader = "building_leader"
    community_staff = "community_staff"
    street_admin = "street_admin"
    volunteer = "volunteer"
    partner = "partner"
    sysadmin = "sysadmin"


ROLE_LABELS = {
    Role.resident: ("居民", "Resident"),
    Role.grid_worker: ("网格员", "Grid worker"),
    Role.building_leader: ("楼栋长/党员", "Building leader / party member"),
    Role.community_staff: ("社区工作者", "Community staff"),
    Role.street_admin: ("街道管理员", "Street administrator"),
    Role.volunteer: ("志愿者", "Volunteer"),
    Role.partner: ("合作单位", "Partner organization"),
    Role.sysadmin: ("系统管理员", "System administrator"),
}


class Perm(StrEnum):
    grid_read = "grid_read"  # the grid tree, buildings, the responsibility chain
    grid_write = "grid_write"  # edit units, buildings and chain assignments
    households_read = "households_read"
    residents_read = "residents_read"
    residents_write = "residents_write"
    residents_import = "residents_import"
    audit_read = "audit_read"
    users_manage = "users_manage"
    space_read = "space_read"  # map layers: hazard zones, shelters, roads, ... (residents: public safety layers)
    space_write = "space_write"
    partners_read = "partners_read"  # the register of partner units and social organizations
    partners_write = "partners_write"
    drills_read = "drills_read"  # drills and trainings of the community, coverage aggregates
    drills_write = "drills_write"  # plan, edit, cancel activities
    drills_attend = "drills_attend"  # record attendance (by hand or an uploaded list)
    evaluation_rate = "evaluation_rate"  # residents rate the teams and organizations that served them
    evaluation_read = "evaluation_read"  # scorecards with comments (partners: their own only)
    evaluation_report = "evaluation_report"  # the public satisfaction report: aggregates, no names
    volunteers_read = "volunteers_read"  # team rosters, skills, service hours
    volunteers_write = "volunteers_write"
    care_read = "care_read"  # care plans, carers and visits of the vulnerable in scope
    care_write = "care_write"  # plans, assignments, visits for anyone in scope
    care_own = "care_own"  # a carer's own care list and the visits they record
    care_coverage = "care_coverage"  # coverage and overlap aggregates, no names
    # Settings, each changed only by the level that owns it (see SETTING_OWNERS).
    settings_street = "settings_street"  # street-wide: categories, deadlines, routing rules for every place
    settings_community = "settings_community"  # routing rules of units in one's own scope
    chain_contacts = "chain_contacts"  # duty holders' personal phones on the responsibility chain


class Field(StrEnum):
    """Personal fields that are masked unless the role needs them."""

    id_number = "id_number"
    phone = "phone"
    health = "health"  # disability, illness, special needs, pregnancy, bedridden


_READ_PEOPLE = {Perm.grid_read, Perm.households_read, Perm.residents_read}

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.resident: frozenset(_READ_PEOPLE),  # only their own household, see scope
    Role.grid_worker: frozenset(_READ_PEOPLE | {Perm.residents_write}),
    Role.building_leader: frozenset(_READ_PEOPLE),
    Role.community_staff: frozenset(
        _READ_PEOPLE | {Perm.residents_write, Perm.residents_import, Perm.grid_write, Perm.audit_read}
    ),
    Role.street_admin: frozenset(_READ_PEOPLE | {Perm.grid_write, Perm.audit_read}),
    Role.volunteer: frozenset({Perm.grid_read}),
    Role.partner: frozenset({Perm.grid_read}),
    Role.sysadmin: frozenset({Perm.grid_read, Perm.grid_write, Perm.audit_read, Perm.users_manage}),
}

# Space layers: every role reads (residents only the public safety layers of their community, see
# space.service); community staff and street admins edit.
for _role in Role:
    if _role is not Role.sysadmin:
        ROLE_PERMS[_role] = ROLE_PERMS[_role] | {Perm.space_read}
for _role in (Role.community_staff, Role.street_admin):
    ROLE_PERMS[_role] = ROLE_PERMS[_role] | {Perm.space_write}

# Drills, partners, public evaluation: everyone in a community sees its activities and the public
# report; staff plan in scope; grid workers and building leaders also record attendance; residents
# sign in (by QR, no permission needed beyond their own record) and rate.
_DRILL_PERMS: dict[Role, set[Perm]] = {
    Role.resident: {Perm.drills_read, Perm.evaluation_rate, Perm.evaluation_report},
    Role.grid_worker: {Perm.drills_read, Perm.drills_attend, Perm.partners_read, Perm.evaluation_read},
    Role.building_leader: {Perm.drills_read, Perm.drills_attend, Perm.partners_read, Perm.evaluation_read},
    Role.community_staff: {
        Perm.drills_read,
        Perm.drills_write,
        Perm.drills_attend,
        Perm.partners_read,
        Perm.partners_write,
        Perm.evaluation_read,
    },
    Role.street_admin: {
        Perm.drills_read,
        Perm.drills_write,
        Perm.drills_attend,
        Perm.partners_read,
        Perm.partners_write,
        Perm.evaluation_read,
    },
    Role.volunteer: {Perm.drills_read, Perm.partners_read},
    Role.partner: {Perm.drills_read, Perm.partners_read, Perm.evaluation_read},
}
for _role, _perms in _DRILL_PERMS.items():
    ROLE_PERMS[_role] = ROLE_PERMS[_role] | _perms | {Perm.evaluation_report}

# Care and volunteers: staff and grid workers manage care in scope, building leaders read their
# building, street admins see aggregates, volunteers only the residents they care for.
_CARE_PERMS: dict[Role, set[Perm]] = {
    Role.community_staff: {
        Perm.volunteers_read,
        Perm.volunteers_write,
        Perm.care_read,
        Perm.care_write,
        Perm.care_own,
        Perm.care_coverage,
    },
    Role.grid_worker: {Perm.volunteers_read, Perm.care_read, Perm.care_write, Perm.care_own, Perm.care_coverage},
    Role.building_leader: {Perm.volunteers_read, Perm.care_read, Perm.care_own},
    Role.street_admin: {Perm.volunteers_read, Perm.care_coverage},
    Role.volunteer: {Perm.volunteers_read, Perm.care_own},
}
for _role, _perms in _CARE_PERMS.items():
    ROLE_PERMS[_role] = ROLE_PERMS[_role] | _perms

# Who owns each setting. Street-wide settings drive routing and escalation in every community,
# so only the street administrator changes them; a community may not override them. Settings of
# one community (its routing rules, partners, teams, map layers) are changed by staff whose scope
# covers it, which the street administrator's does too. The services check both the permission
# and the scope. The report states and transitions are data seeded by migrations and have no
# write route; API keys and accounts are the system administrator's.
SETTING_OWNERS: dict[str, Perm] = {
    "event_category": Perm.settings_street,
    "severity_deadline": Perm.settings_street,
    "routing_rule (every place)": Perm.settings_street,
    "routing_rule (a unit)": Perm.settings_community,
    "partner_organization": Perm.partners_write,
    "volunteer_team": Perm.volunteers_write,
    "space_layer (shelters, zones, roads ...)": Perm.space_write,
    "evacuation_scenario": Perm.space_write,
    "api_key": Perm.users_manage,
    "user": Perm.users_manage,
}
ROLE_PERMS[Role.street_admin] = ROLE_PERMS[Role.street_admin] | {Perm.settings_street, Perm.settings_community}
ROLE_PERMS[Role.community_staff] = ROLE_PERMS[Role.community_staff] | {Perm.settings_community}

# The responsibility chain's personal phones go to the roles that call duty holders in their
# work: community staff, grid workers and building leaders (who escalate along the chain).
# Residents see names and duties; volunteers, partners and street administrators a masked phone.
for _role in (Role.community_staff, Role.grid_worker, Role.building_leader):
    ROLE_PERMS[_role] = ROLE_PERMS[_role] | {Perm.chain_contacts}

# Fields each role sees in the clear on a resident in its scope. Grid workers visit and call
# people and must know their health needs; building leaders call; street and system
# administrators analyse and administer, so they never need identities.
CLEAR_FIELDS: dict[Role, frozenset[Field]] = {
    Role.community_staff: frozenset({Field.id_number, Field.phone, Field.health}),
    Role.grid_worker: frozenset({Field.phone, Field.health}),
    Role.building_leader: frozenset({Field.phone}),
}

# Roles whose scope spans whole units and their subtrees (a resident's is one household).
UNIT_SCOPED = frozenset(Role) - {Role.resident, Role.sysadmin}
GLOBAL_ROLES = frozenset({Role.sysadmin})


def sees_birth_date(clear: frozenset[Field]) -> bool:
    """The birth date is eight of the ID number's eighteen digits: a role sees it exactly where it
    may read the ID number; everyone else sees an age. Shown beside a masked ID it rebuilt the ID."""
    return Field.id_number in clear


def has_perm(role: Role, perm: Perm) -> bool:
    return perm in ROLE_PERMS[role]


def clear_fields(role: Role, *, own_record: bool = False) -> frozenset[Field]:
    """A resident sees their own record in full; everybody else by role."""
    if own_record:
        return frozenset(Field)
    return CLEAR_FIELDS.get(role, frozenset())


def path_in_scope(path: str, scope_paths: tuple[str, ...]) -> bool:
    return any(path.startswith(p) for p in scope_paths)
