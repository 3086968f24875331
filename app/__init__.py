"""The Vraagbaak service: settings, database, domain services, HTTP API and CLI."""
