from orchestrator import logs  # noqa: F401,E402 - structlog set up once for every entry point
