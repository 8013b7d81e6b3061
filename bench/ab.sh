#!/usr/bin/env bash
# Back-to-back A/B of two commits on this machine (issue 5: report ratios
# measured in one sitting). Usage, from the repository root:
#
#   bash bench/ab.sh <commit-before> [<commit-after> = HEAD] [rounds = 1]
#
# Each commit is checked out in a temporary git worktree that shares this
# clone's node_modules and build/ (the native addon: only valid while the
# C++ kernels are the same in both commits), then, per round and commit:
#   tsx bench/run.ts --model networkA --batch 1,8 --warmup 1000 --reps 100 --warmup-s 0 --no-write
#   tsx bench/run.ts --model cnn-maxpool,cnn-avgpool --batch 1,8 --warmup 5 --reps 10 --warmup-s 0 --no-write
# (plus --no-cold-start for a commit whose bench/run.ts has that flag: the
# cold-start rows start fresh deployments and are not part of the A/B)
# and prints the summary rows (Network A warms up 1000 runs, as npm run bench
# does: its latency falls over the first thousands of predictions). Nothing is
# written to BENCHMARKS.md.
set -euo pipefail
before=${1:?usage: bash bench/ab.sh <commit-before> [<commit-after>] [rounds]}
after=${2:-HEAD}
rounds=${3:-1}
source "$(dirname "$0")/ab-worktrees.sh"
ab_worktrees "$before" "$after"
run() {
  (cd "$1" && echo "== $2: $(git log --oneline -1 | cut -c1-72)"
   extra=($(ab_cold_flag .))
   npx tsx bench/run.ts --model networkA --batch 1,8 --warmup 1000 --reps 100 --warmup-s 0 --no-write "${extra[@]}" 2>/dev/null | grep -E '^\| MNIST' || true
   npx tsx bench/run.ts --model cnn-maxpool,cnn-avgpool --batch 1,8 --warmup 5 --reps 10 --warmup-s 0 --no-write "${extra[@]}" 2>/dev/null | grep -E '^\| seed' || true)
}
for r in $(seq 1 "$rounds"); do
  echo "# round $r of $rounds, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
  run "$tmp/a" before
  run "$tmp/b" after
done
