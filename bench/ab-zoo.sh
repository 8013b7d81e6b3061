#!/usr/bin/env bash
# Back-to-back A/B of two commits on the zoo rows (issue 20), in one sitting:
#
#   bash bench/ab-zoo.sh <commit-before> [<commit-after> = HEAD] [rounds = 1] [models = mobilenetv3small,unet128]
#
# As bench/ab.sh: each commit in a temporary worktree sharing this clone's
# node_modules and build/ (the native addon: the newer one, a superset of the
# kernels both commits call). Per round, each model runs before then after:
#   tsx bench/run.ts --model <m> --batch 1 --heavy-reps 3 --no-write --no-cold-start
# and the summary row and the per-kind table are printed. Nothing is written
# to BENCHMARKS.md.
set -euo pipefail
before=${1:?usage: bash bench/ab-zoo.sh <commit-before> [<commit-after>] [rounds] [models]}
after=${2:-HEAD}
rounds=${3:-1}
models=${4:-mobilenetv3small,unet128}
source "$(dirname "$0")/ab-worktrees.sh"
ab_worktrees "$before" "$after"
run() {
  (cd "$1" && echo "== $2 ($3): $(git log --oneline -1 | cut -c1-60), load $(cut -d' ' -f1 /proc/loadavg)"
   npx tsx bench/run.ts --model "$3" --batch 1 --heavy-reps 3 --no-write $(ab_cold_flag .) 2>/dev/null | grep -E '^\| ' || true)
}
echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for r in $(seq 1 "$rounds"); do
  for m in ${models//,/ }; do
    echo "# round $r of $rounds, $m"
    run "$tmp/a" before "$m"
    run "$tmp/b" after "$m"
  done
done
