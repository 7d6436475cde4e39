"""Pure domain model: entities, the status state machine, errors. No I/O, no framework imports."""
