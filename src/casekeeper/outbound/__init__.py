"""Calls casekeeper makes to other systems (Alertmanager's API). Like the adapters in ``api``,
these depend on the services whose interfaces they implement, never the reverse."""
