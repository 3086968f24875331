"""HTTP layer: thin routers that parse, authorise through one dependency, call a service."""
