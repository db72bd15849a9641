from orchestrator import logs  # noqa: F401,E402 - every entry point reads the log settings; structlog loads at the first event
