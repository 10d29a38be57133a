"""The handlers of the endpoint table's rows that do not fit its generic route (medperf_core/endpoints.py)."""
