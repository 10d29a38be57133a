"""The tutorial benchmark: toy chest X-ray data and the containers that prepare, predict and evaluate it."""
