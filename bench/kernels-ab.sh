#!/usr/bin/env bash
# Alternating rounds of `npm run bench:kernels` against another build of the kernels addon, pinned to one CPU:
#   bash bench/kernels-ab.sh <old securenn_kernels.node> [rounds=3] [cpu=1] > out.txt
# Each round runs the old addon (MPC_NATIVE_ADDON=<old>) and then this tree's build/Release one, with every SIMD
# level the CPU has; then one round each forced to avx2 and scalar (MPC_KERNEL_SIMD). Compare GMAC/CPU-s rows
# (process CPU time: what the other work on a loaded machine takes from the wall time is left out).
set -euo pipefail
old=${1:?usage: kernels-ab.sh <old securenn_kernels.node> [rounds] [cpu]}
rounds=${2:-3}
cpu=${3:-1}
cd "$(dirname "$0")/.."
run() { echo "=== $1 $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"; shift; env "$@" taskset -c "$cpu" npx tsx bench/kernels.ts; }
for r in $(seq 1 "$rounds"); do
  run "round $r old" MPC_NATIVE_ADDON="$old"
  run "round $r new"
done
for simd in avx2 scalar; do
  run "forced $simd old" MPC_NATIVE_ADDON="$old" MPC_KERNEL_SIMD="$simd"
  run "forced $simd new" MPC_KERNEL_SIMD="$simd"
done
