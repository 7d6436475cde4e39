"""The session's real gRPC and HTTP servers (the Coralogix tests' fixtures)."""

from tests.api.coralogix.grpc.conftest import (  # noqa: F401  (fixtures)
    channel,
    grpc_server,
    grpc_target,
)
from tests.api.coralogix.rest.conftest import (  # noqa: F401  (fixtures)
    base_url,
    client,
    http,
)
