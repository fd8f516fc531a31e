#!/bin/bash
# Submits a sharded gpbudget run to Slurm: a job array of N shards, then a
# merge job that runs once every shard has succeeded.
#
#   GPBUDGET_OUT=/shared/runs/hard GPBUDGET_SCENARIO=hard.yaml \
#   GPBUDGET_ARGS="--reps 2000 --seed 7" deploy/slurm/submit.sh 16 [sbatch options...]
#
# N defaults to 4; sbatch options after it (e.g. --partition=compute
# --account=myproject --cpus-per-task=8) go to the array job. Settings are
# those of gpbudget-array.sbatch. With GPBUDGET_WAIT=1 it waits for the merge
# job to end and exits with its status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-4}
[ $# -gt 0 ] && shift
case $n in '' | *[!0-9]*) echo "submit.sh: the shard count must be a whole number, got '$n'" >&2; exit 2 ;; esac
: "${GPBUDGET_OUT:?set GPBUDGET_OUT to an output folder on a filesystem every node shares}"
export GPBUDGET_OUT
array=$(sbatch --parsable --array="0-$((n - 1))" "$@" "$here/gpbudget-array.sbatch")
array=${array%%;*} # "id;cluster" on multi-cluster sites
wait=() # ${wait[@]+...} below: bash before 4.4 calls an empty array unbound under set -u
[ "${GPBUDGET_WAIT:-0}" = 1 ] && wait=(--wait)
echo "submitted array job $array ($n shards) writing to $GPBUDGET_OUT"
merge=$(sbatch --parsable ${wait[@]+"${wait[@]}"} --job-name=gpbudget-merge --output=gpbudget-merge-%j.log \
  --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --wrap="$(printf '%q merge %q' "${GPBUDGET:-gpbudget}" "$GPBUDGET_OUT")")
echo "submitted merge job ${merge%%;*} (runs when every shard has succeeded)"
