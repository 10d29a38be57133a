"""HTTP routers, one module per resource, all under /api/v0."""
