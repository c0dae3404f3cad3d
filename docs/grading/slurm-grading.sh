#!/bin/bash
# Grade a class on an HPC cluster: a Slurm array job, one task per shard.
#   sbatch slurm-grading.sh
# then, when every task has finished (or submit it with --dependency=afterok:<job id>):
#   gdcourse merge-grades grades.csv parts/part-*.csv
# Keep SHARDS equal to the size of --array and use one SEED for every task.
#SBATCH --job-name=gdcourse-grade
#SBATCH --array=1-4
#SBATCH --cpus-per-task=2
#SBATCH --mem=3G
#SBATCH --time=00:30:00
#SBATCH --output=logs/grade-%A_%a.out
set -euo pipefail

SHARDS=4
SEED=20261201
SUBMISSIONS=submitted

mkdir -p parts logs
gdcourse grade "$SUBMISSIONS" --lesson 1 --seed "$SEED" --jobs "${SLURM_CPUS_PER_TASK:-2}" \
  --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" \
  --out "parts/part-$SLURM_ARRAY_TASK_ID.csv"
