"""An example third-party medperf plugin: copy this distribution to start your own."""
