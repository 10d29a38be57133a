"""medperf-singularity: the Singularity/Apptainer runner plugin (spython is imported only when used)."""
