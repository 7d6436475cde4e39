"""The change feed over the session's real HTTP server."""

from tests.api.coralogix.grpc.conftest import (  # noqa: F401  (fixtures)
    admin_stub,
    api,
    cases_stub,
    channel,
    events_stub,
    grpc_server,
    grpc_target,
    keys_stub,
    make_client,
)
from tests.api.coralogix.rest.conftest import base_url, client, http  # noqa: F401  (fixtures)
from tests.web.conftest import log_in  # noqa: F401  (fixture)
