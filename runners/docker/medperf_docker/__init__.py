"""medperf-docker: the Docker runner plugin (the docker SDK is imported only when a runner is used)."""
