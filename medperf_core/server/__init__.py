"""The medperf server: HTTP API (FastAPI), its services, read model and auth; heavy imports stay in app/routers."""
