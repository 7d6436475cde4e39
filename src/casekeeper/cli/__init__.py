"""The ``casekeeper`` command line: noun then verb."""
