#!/usr/bin/env bash
# The test command N times in a row while busy loops keep every core busy: how CI's loaded machine is rehearsed
# here. Usage: scripts/test-under-load.sh [RUNS=3] [BUSY_LOOPS=nproc]. Each run's output is kept in
# test-under-load/run-K.log; the last line says how many runs were green. Exit 0 only when every run was.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
loops=${2:-$(nproc)}
out=test-under-load
mkdir -p "$out"

pids=()
stop_loops() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_loops EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for _ in $(seq "$loops"); do
  sh -c 'while :; do :; done' &
  pids+=("$!")
done
echo "$loops busy loops: ${pids[*]}"

green=0
for k in $(seq "$runs"); do
  start=$(date +%s)
  scripts/test.sh >"$out/run-$k.log" 2>&1
  status=$?
  echo "run $k: exit $status, $(tail -n 1 "$out/run-$k.log"), $(($(date +%s) - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
  [ "$status" -eq 0 ] && green=$((green + 1))
done
echo "$green of $runs runs green"
[ "$green" -eq "$runs" ]
