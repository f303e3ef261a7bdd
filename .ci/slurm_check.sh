#!/usr/bin/env bash
# The SLURM check of CI: stands up a throw-away single-node SLURM (.ci/ci-slurm.sh, root,
# Debian packages, no systemd), runs the tiny configuration .ci/slurm/tiny.yaml through
# the shipped profile profiles/slurm and locally (--cores 2) in scratch folders, checks
# that every exported file is byte-identical, checks that a failing job surfaces (exit
# status, SLURM's FAILED, the rule's message), and tears SLURM down again, whatever happens.
# Needs the project installed in .venv (with its slurm extra). Every snakemake run has a
# hard time limit, so that a hung status check fails the check instead of hanging it.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/.venv/bin/activate"
SCRATCH=$(mktemp -d /tmp/regeval-slurm-check.XXXXXX)
LIMIT=${SLURM_CHECK_LIMIT:-900}          # seconds per snakemake run
started=$SECONDS

cleanup() {
  bash "$REPO/.ci/ci-slurm.sh" down >/dev/null 2>&1 || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
step() { echo "slurm-check [$((SECONDS - started)) s]: $*"; }

step "standing up SLURM"
bash "$REPO/.ci/ci-slurm.sh" up >"$SCRATCH/up.log" 2>&1 || { cat "$SCRATCH/up.log"; exit 1; }

# the shipped profile, with what a throw-away cluster needs: its partition, a first
# status check after 2 s instead of 40 s, no retry (a failure must show at once)
SLURM_ARGS=(--profile "$REPO/profiles/slurm" --jobs 4 --latency-wait 5 --retries 0
            --default-resources slurm_partition=debug mem_mb=2000 runtime=30
            --slurm-init-seconds-before-status-checks 2 --slurm-logdir "$SCRATCH/slurm-logs")
run_slurm() { timeout --kill-after=20 "$LIMIT" snakemake -s "$REPO/Snakefile" "${SLURM_ARGS[@]}" "$@"; }

step "tiny run through SLURM and locally (in parallel)"
mkdir -p "$SCRATCH/slurm" "$SCRATCH/local"
( cd "$SCRATCH/local" && timeout --kill-after=20 "$LIMIT" snakemake -s "$REPO/Snakefile" \
    --configfile "$REPO/.ci/slurm/tiny.yaml" --cores 1 >"$SCRATCH/local.log" 2>&1 ) & local_pid=$!
rc=0; ( cd "$SCRATCH/slurm" && run_slurm --configfile "$REPO/.ci/slurm/tiny.yaml" >"$SCRATCH/slurm.log" 2>&1 ) || rc=$?
lrc=0; wait "$local_pid" || lrc=$?
if [ "$rc" != 0 ]; then tail -n 60 "$SCRATCH/slurm.log"; echo "slurm-check: the SLURM run failed (exit $rc; 124 = time limit)"; exit 1; fi
if [ "$lrc" != 0 ]; then tail -n 60 "$SCRATCH/local.log"; echo "slurm-check: the local run failed (exit $lrc)"; exit 1; fi
n_sbatch=$(grep -c "Job .* has been submitted with SLURM jobid" "$SCRATCH/slurm.log" || true)
step "SLURM run done ($n_sbatch SLURM jobs)"
[ "$n_sbatch" -ge 3 ] || { echo "slurm-check: expected jobs submitted to SLURM, found $n_sbatch"; exit 1; }

step "comparing the exported files"
n=0
while IFS= read -r f; do
  n=$((n + 1))
  cmp -s "$SCRATCH/slurm/$f" "$SCRATCH/local/$f" || { echo "slurm-check: $f differs between SLURM and local"; exit 1; }
done < <(cd "$SCRATCH/local" && find results -path '*/export/*' -type f | sort)
slurm_n=$(cd "$SCRATCH/slurm" && find results -path '*/export/*' -type f | wc -l)
[ "$n" -gt 50 ] && [ "$n" = "$slurm_n" ] || { echo "slurm-check: $n exported files locally, $slurm_n through SLURM"; exit 1; }
step "$n exported files byte-identical"

step "fail early: a missing budget input is named before any job is submitted"
mkdir -p "$SCRATCH/early"
echo "specs: {default: {budget: {inputs: $SCRATCH/no-such-folder}}}" >"$SCRATCH/early/config.yaml"
rc=0; ( cd "$SCRATCH/early" && run_slurm --configfile "$REPO/.ci/slurm/tiny.yaml" "$SCRATCH/early/config.yaml" \
          >"$SCRATCH/early.log" 2>&1 ) || rc=$?
if [ "$rc" = 0 ] || grep -q "submitted with SLURM jobid" "$SCRATCH/early.log" \
   || ! grep -q "specs.default.budget.inputs: budget input file not found" "$SCRATCH/early.log"; then
  tail -n 30 "$SCRATCH/early.log"; echo "slurm-check: a bad budget path was not reported before submission (exit $rc)"; exit 1
fi

step "a failing job: registers whose population table has a duplicated person-year"
mkdir -p "$SCRATCH/bad/registers"
python - "$SCRATCH/local/results/_shared/inside/registers" "$SCRATCH/bad/registers" <<'PY'
import shutil, sys
from pathlib import Path
import pandas as pd
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for f in src.glob("*.parquet"):
    if f.name.startswith("truth"):
        continue
    if f.name == "bef.parquet":
        bef = pd.read_parquet(f)
        pd.concat([bef, bef.iloc[:1]]).to_parquet(dst / f.name, index=False)
    else:
        shutil.copy(f, dst / f.name)
PY
cat >"$SCRATCH/bad/config.yaml" <<YAML
data: {source: registers, registers: {directory: $SCRATCH/bad/registers}}
business_case: null
YAML
rc=0; ( cd "$SCRATCH/bad" && run_slurm --configfile "$REPO/.ci/slurm/tiny.yaml" "$SCRATCH/bad/config.yaml" \
          >"$SCRATCH/bad.log" 2>&1 ) || rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  tail -n 40 "$SCRATCH/bad.log"; echo "slurm-check: the failing run exited $rc, expected a failure (1)"; exit 1
fi
# SLURM's own view: the job ended FAILED (squeue keeps ended jobs for MinJobAge = 300 s)
squeue -h -t all -o "%T" | grep -qx FAILED || { squeue -t all; echo "slurm-check: no SLURM job ended FAILED"; exit 1; }
grep -q "Error in group registers" "$SCRATCH/bad.log" || { tail -n 40 "$SCRATCH/bad.log"; echo "slurm-check: the failed job is not reported"; exit 1; }
grep -q "validate_registers failed: " "$SCRATCH/bad.log" || { tail -n 40 "$SCRATCH/bad.log"; echo "slurm-check: the rule's message is not shown"; exit 1; }
step "the failing job surfaced: exit $rc, SLURM state FAILED, the rule's message shown"
step "passed"
