"""Demo notification setup: an example webhook connector, switched off (the demo has no
receiver: an enabled one would retry against nothing), and two example routes, so that
``connectors list``, ``routes explain`` and the delivery ledger have something to show. Point
the connector somewhere real and enable it to see deliveries (README)."""

from __future__ import annotations

from casekeeper.domain.errors import CasekeeperError
from casekeeper.service.auth import Principal
from casekeeper.service.notify_config import ConnectorInput, ConnectorService
from casekeeper.service.notify_routes import RouteInput, RouteService

EXAMPLE_URL = "http://127.0.0.1:9999/casekeeper-demo-hook"


def load_notifications(connectors: ConnectorService, routes: RouteService, who: Principal) -> int:
    """Make the example connector and routes unless they exist; how many things were made."""
    try:
        connectors.get(who, "example-webhook")
        return 0
    except CasekeeperError:
        pass
    hook = connectors.create(who, ConnectorInput(
        name="example-webhook", kind="webhook", url=EXAMPLE_URL, enabled=False,
        header_templates=(("X-Team", "{{ case.labels.team }}"),),
    ))  # fmt: skip
    routes.create(who, RouteInput(
        name="urgent-availability", connectors=(hook.id,),
        events=("opened", "acknowledged", "resolved", "kpi_breached"), min_priority="P2",
        categories=("AVAILABILITY",),
        title_template="[{{ case.priority }}] {{ case.readable_id }} {{ event }}: {{ case.title }}",
    ))  # fmt: skip
    routes.create(who, RouteInput(
        name="security-everything", connectors=(hook.id,), categories=("SECURITY",), stop=True,
    ))  # fmt: skip
    return 3
