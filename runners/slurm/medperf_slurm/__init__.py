"""medperf-slurm: the Slurm runner plugin (each task is one `sbatch` job running its SIF with Apptainer)."""
