"""The Coralogix Incidents API (``com.coralogixapis.incidents.v1.IncidentsService``): request
messages → domain queries (``query``), domain → response messages (``convert``), and one
function per RPC shared by the gRPC servicer and the REST routes (``ops``)."""
