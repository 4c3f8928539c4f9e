"""Roles, what each may do, and which personal fields each sees in the clear. Pure: no I/O.

The rule of least necessity (PIPL art. 6): a role sees a personal field in the clear only
where its work needs it, and each such read is audited by the service layer.
"""

from enum import StrEnum

from renxing.i18n import _lp


class Role(StrEnum):
    resident = "resident"
    grid_worker = "grid_worker"
    building_leader = "building_leader"
    community_staff = "community_staff"
    street_admin = "street_admin"
    volunteer = "volunteer"
    partner = "partner"
    sysadmin = "sysadmin"


# Labels of the roles, in the language of the moment ("居民" is also the register: hence a context).
ROLE_LABELS = {
    Role.resident: _lp("role", "居民"),
    Role.grid_worker: _lp("role", "网格员"),
    Role.building_leader: _lp("role", "楼栋长/党员"),
    Role.community_staff: _lp("role", "社区工作者"),
    Role.street_admin: _lp("role", "街道管理员"),
    Role.volunteer: _lp("role", "志愿者"),
    Role.partner: _lp("role", "合作单位"),
    Role.sysadmin: _lp("role", "系统管理员"),
}


class Perm(StrEnum):
    grid_read = "grid_read"  # the grid tree, buildings, the responsibility chain
    grid_write = "grid_write"  # edit units, buildings and chain assignments
    households_read = "households_read"  # households and who lives in them (residents: their own)
    residents_read = "residents_read"  # the resident register, masked by role (see CLEAR_FIELDS)
    residents_write = "residents_write"  # add, edit, remove and restore residents
    residents_import = "residents_import"  # import the register from Excel, all or nothing
    audit_read = "audit_read"  # the audit trail of the scope (masked)
    users_manage = "users_manage"  # accounts, roles, scopes and API keys
    space_read = "space_read"  # map layers: hazard zones, shelters, roads, ... (residents: public safety layers)
    space_write = "space_write"  # edit map layers and evacuation scenarios
    partners_read = "partners_read"  # the register of partner units and social organizations
    partners_write = "partners_write"  # register and edit partner organizations
    drills_read = "drills_read"  # drills and trainings of the community, coverage aggregates
    drills_write = "drills_write"  # plan, edit, cancel activities
    drills_attend = "drills_attend"  # record attendance (by hand or an uploaded list)
    evaluation_rate = "evaluation_rate"  # residents rate the teams and organizations that served them
    evaluation_read = "evaluation_read"  # scorecards with comments (partners: their own only)
    evaluation_read_all = "evaluation_read_all"  # every scorecard in scope, not only one's own organization's
    evaluation_report = "evaluation_report"  # the public satisfaction report: aggregates, no names
    volunteers_read = "volunteers_read"  # team rosters, skills, service hours
    volunteers_write = "volunteers_write"  # teams, members, skills and hours
    care_read = "care_read"  # care plans, carers and visits of the vulnerable in scope
    care_write = "care_write"  # plans, assignments, visits for anyone in scope
    care_own = "care_own"  # a carer's own care list and the visits they record
    care_coverage = "care_coverage"  # coverage and overlap aggregates, no names
    # Settings, each changed only by the level that owns it (see SETTING_OWNERS).
    settings_street = "settings_street"  # street-wide: categories, deadlines, routing rules for every place
    settings_community = "settings_community"  # routing rules of units in one's own scope
    chain_contacts = "chain_contacts"  # duty holders' personal phones on the responsibility chain
    # The closed loop. Reporter and handler are relations to one report, not roles (events/policy.py).
    reports_work = "reports_work"  # assign, transfer, reject, merge, close the reports in scope
    reports_record = "reports_record"  # record a report for someone else (phone) or on patrol
    reports_moderate = "reports_moderate"  # write the public copy of a report
    reporter_contacts = "reporter_contacts"  # a reporter's phone in the clear, to call back
    space_analysis = "space_analysis"  # every layer, exposure and checks, the printable risk map
    evacuation_plan = "evacuation_plan"  # evacuation scenarios, plans and what-ifs
    # The cloud warehouse. Partners: only their own organization's sites, stock and agreements.
    supplies_read = "supplies_read"  # storage points, stock levels, the ledger, expiry, days of autonomy
    supplies_move = "supplies_move"  # post receipts, issues, transfers, counts, write-offs and reversals
    supplies_manage = "supplies_manage"  # storage points, minimum levels, the item catalogue and its needs
    supplies_agreements = "supplies_agreements"  # agreements with partners (partners: contacts of their own)
    supplies_allocate = "supplies_allocate"  # emergency allocation runs, pick lists, committing transfers
    # Sensors and early warning. Public CAP alerts and the Atom feed need no permission (no personal data).
    sensors_read = "sensors_read"  # devices, their state and readings, rules, triggers
    sensors_manage = "sensors_manage"  # register devices, issue their credentials, edit rules
    alerts_receive = "alerts_receive"  # import CAP alerts (file, URL), manage the polled feeds
    warnings_read = "warnings_read"  # incoming alerts, warnings and their progress, the unreached list
    warnings_compose = "warnings_compose"  # compose, send (blue, yellow, exercises), update and cancel warnings
    warnings_approve = "warnings_approve"  # approve or refuse an orange or red warning composed by someone else
    warnings_confirm = "warnings_confirm"  # record a household's acknowledgement after a call or a door knock
    # Operating modes (平急转换): normal, alert, emergency, recovery of each community.
    mode_read = "mode_read"  # each community's mode, its history and the switches proposed
    mode_switch = "mode_switch"  # switch a community's mode, confirm or dismiss a proposed switch


class Field(StrEnum):
    """Personal fields that are masked unless the role needs them."""

    id_number = "id_number"
    phone = "phone"
    health = "health"  # disability, illness, special needs, pregnancy, bedridden


# Who may do what: one literal, permission by permission, so "who may do X" is read off one line.
# `docs/permissions.md` is generated from it (`renxing permissions`) and a test keeps the two in step.
# Scope (which units, households, records) is the other half of every check: see `grid/scope.py`.
RES, GRID, BLDG, STAFF = Role.resident, Role.grid_worker, Role.building_leader, Role.community_staff
STREET, VOL, PARTNER, SYS = Role.street_admin, Role.volunteer, Role.partner, Role.sysadmin

WHO_MAY: dict[Perm, frozenset[Role]] = {
    Perm.grid_read: frozenset({RES, GRID, BLDG, STAFF, STREET, VOL, PARTNER, SYS}),
    Perm.grid_write: frozenset({STAFF, STREET, SYS}),
    Perm.households_read: frozenset({RES, GRID, BLDG, STAFF, STREET}),  # residents: their own household
    Perm.residents_read: frozenset({RES, GRID, BLDG, STAFF, STREET}),
    Perm.residents_write: frozenset({GRID, STAFF}),
    Perm.residents_import: frozenset({STAFF}),
    Perm.audit_read: frozenset({STAFF, STREET, SYS}),
    Perm.users_manage: frozenset({SYS}),
    Perm.reports_work: frozenset({GRID, BLDG, STAFF, STREET}),
    Perm.reports_record: frozenset({GRID, BLDG, STAFF, STREET}),
    Perm.reports_moderate: frozenset({STAFF, STREET}),
    Perm.reporter_contacts: frozenset({GRID, BLDG, STAFF}),
    Perm.space_read: frozenset({RES, GRID, BLDG, STAFF, STREET, VOL, PARTNER}),  # residents: public layers
    Perm.space_analysis: frozenset({GRID, BLDG, STAFF, STREET, VOL, PARTNER}),
    Perm.space_write: frozenset({STAFF, STREET}),
    Perm.evacuation_plan: frozenset({GRID, STAFF, STREET}),
    Perm.partners_read: frozenset({GRID, BLDG, STAFF, STREET, VOL, PARTNER}),
    Perm.partners_write: frozenset({STAFF, STREET}),
    Perm.drills_read: frozenset({RES, GRID, BLDG, STAFF, STREET, VOL, PARTNER}),
    Perm.drills_write: frozenset({STAFF, STREET}),
    Perm.drills_attend: frozenset({GRID, BLDG, STAFF, STREET}),
    Perm.evaluation_rate: frozenset({RES}),
    Perm.evaluation_read: frozenset({GRID, BLDG, STAFF, STREET, PARTNER}),  # partners: their own scorecard
    Perm.evaluation_read_all: frozenset({GRID, BLDG, STAFF, STREET}),
    Perm.evaluation_report: frozenset({RES, GRID, BLDG, STAFF, STREET, VOL, PARTNER}),
    Perm.volunteers_read: frozenset({GRID, BLDG, STAFF, STREET, VOL}),
    Perm.volunteers_write: frozenset({STAFF}),
    Perm.care_read: frozenset({GRID, BLDG, STAFF}),
    Perm.care_write: frozenset({GRID, STAFF}),
    Perm.care_own: frozenset({GRID, BLDG, STAFF, VOL}),
    Perm.care_coverage: frozenset({GRID, STAFF, STREET}),
    Perm.settings_street: frozenset({STREET}),
    Perm.settings_community: frozenset({STAFF, STREET}),
    Perm.chain_contacts: frozenset({GRID, BLDG, STAFF}),
    Perm.supplies_read: frozenset({GRID, BLDG, STAFF, STREET, PARTNER}),
    Perm.supplies_move: frozenset({GRID, BLDG, STAFF, STREET, PARTNER}),  # grid, building: household kits in scope
    Perm.supplies_manage: frozenset({STAFF, STREET}),
    Perm.supplies_agreements: frozenset({STAFF, STREET, PARTNER}),
    Perm.supplies_allocate: frozenset({STAFF, STREET}),
    Perm.sensors_read: frozenset({GRID, BLDG, STAFF, STREET}),
    Perm.sensors_manage: frozenset({STAFF, STREET}),
    Perm.alerts_receive: frozenset({STAFF, STREET}),
    Perm.warnings_read: frozenset({GRID, BLDG, STAFF, STREET}),
    Perm.warnings_compose: frozenset({STAFF, STREET}),
    Perm.warnings_approve: frozenset({STAFF, STREET}),
    Perm.warnings_confirm: frozenset({GRID, BLDG, STAFF, STREET}),
    Perm.mode_read: frozenset({RES, GRID, BLDG, STAFF, STREET, VOL, PARTNER, SYS}),
    Perm.mode_switch: frozenset({STAFF, STREET}),
}

# The same table read by role, for the principal's checks.
ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    role: frozenset(perm for perm, roles in WHO_MAY.items() if role in roles) for role in Role
}

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
    "supply_item (catalogue, needs)": Perm.supplies_manage,
    "storage_point, minimum level": Perm.supplies_manage,
    "warning_level (colour → CAP severity, urgency; approval; deadlines)": Perm.settings_street,
    "sensor_device, sensor_rule": Perm.sensors_manage,
    "alert_feed": Perm.alerts_receive,
    "api_key": Perm.users_manage,
    "user": Perm.users_manage,
}

# Fields each role sees in the clear on a resident in its scope. Grid workers visit and call
# people and must know their health needs; building leaders call; street and system
# administrators analyse and administer, so they never need identities.
CLEAR_FIELDS: dict[Role, frozenset[Field]] = {
    Role.community_staff: frozenset({Field.id_number, Field.phone, Field.health}),
    Role.grid_worker: frozenset({Field.phone, Field.health}),
    Role.building_leader: frozenset({Field.phone}),
}

# The three kinds of scope: a resident's is one household; the system administrator's is
# everything (but they read no personal data: see CLEAR_FIELDS); every other role's is the units
# assigned to them and their subtrees.
HOUSEHOLD_SCOPED = frozenset({Role.resident})
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
