"""Service layer: one function per use case. Every adapter (gRPC, REST, CLI) calls these."""
