"""Demo users of space ``default`` and what they did: alice (admin) opened a case the way a
Kibana script would, bob (responder) acknowledged it and commented; bob opened a security case
the way a Tracecat playbook would and put it on hold; carol (viewer) only reads.
Their password is ``DEMO_PASSWORD`` (printed by scripts/demo.sh: demo data, not for a real
server)."""

from __future__ import annotations

from typing import Final

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CaseCategory, CasePriority, Severity
from casekeeper.service.admin import AdminService, NewCase
from casekeeper.service.auth import OPERATOR
from casekeeper.service.cases import CaseService
from casekeeper.service.context import ServiceContext
from casekeeper.service.timeline import TimelineService
from casekeeper.service.users import UserService

DEMO_PASSWORD: Final = "casekeeper-demo"  # noqa: S105 - demo data, printed by demo.sh
USERS: Final = (
    ("alice", "admin", "Alice Admin"),
    ("bob", "responder", "Bob Responder"),
    ("carol", "viewer", "Carol Viewer"),
)


def load_users(ctx: ServiceContext, space: str = "default") -> int:
    """Make the demo users and their case in a database that has no users yet (never beside
    real ones: their password is public); how many users were made."""
    users = UserService(ctx.db, ctx.clock)
    if users.list_users(OPERATOR):
        return 0
    for name, role, full in USERS:
        users.create(OPERATOR, username=name, password=DEMO_PASSWORD, space=space, role=role,
                     email=f"{name}@example.com", full_name=full)  # fmt: skip
    by = {name: users.authenticate(name, DEMO_PASSWORD, space, "demo") for name, _, _ in USERS}
    bob = by["bob"]
    case = AdminService(ctx).create_case(by["alice"], NewCase(
        title="Customer reports failed card payments", category=CaseCategory.AVAILABILITY,
        priority=CasePriority.P2, fields=(
            cmd.SetDescription("Support forwarded three tickets about declined cards since 09:10."),
            cmd.SetTags(("payments", "customer-report")),
            cmd.SetExtension("kibana", {"owner": "observability",
                                        "settings": {"syncAlerts": False}}),
        ),
    ))  # fmt: skip
    CaseService(ctx).change(bob, CaseChange(case.id, (cmd.Assign(bob.user_id), cmd.Acknowledge())))
    TimelineService(ctx).create_comment(bob, case.id, "Looking at the payment gateway logs.")
    found = AdminService(ctx).create_case(bob, NewCase(
        title="Impossible travel: carol signed in from two continents in 10 minutes",
        category=CaseCategory.SECURITY, priority=CasePriority.P2, fields=(
            cmd.SetDescription("IdP sign-ins from 198.51.100.23 (Lisbon) and 203.0.113.9 "
                               "(Sydney) nine minutes apart."),
            cmd.SetTags(("identity", "impossible-travel")),
            cmd.SetSeverity(Severity.HIGH),
            cmd.SetExtension("tracecat", {"payload": {"source": "okta", "user": "carol"}}),
        ),
    ))  # fmt: skip
    hold = (cmd.Assign(bob.user_id), cmd.Acknowledge(), cmd.SetOnHold(True))
    CaseService(ctx).change(bob, CaseChange(found.id, hold))
    TimelineService(ctx).create_comment(bob, found.id, "Waiting for carol to confirm her trip.")
    return len(USERS)
