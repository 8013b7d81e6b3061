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
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'for d in "$tmp"/a "$tmp"/b; do git -C "$root" worktree remove --force "$d" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
for side in a b; do
  rev=$([ "$side" = a ] && echo "$before" || echo "$after")
  git -C "$root" worktree add -q --detach "$tmp/$side" "$rev"
  ln -s "$root/node_modules" "$tmp/$side/node_modules"
  ln -s "$root/build" "$tmp/$side/build"
done
[ -e "$tmp/shared" ] || ln -s "$root/../shared" "$tmp/shared"
run() {
  (cd "$1" && echo "== $2 ($3): $(git log --oneline -1 | cut -c1-60), load $(cut -d' ' -f1 /proc/loadavg)"
   npx tsx bench/run.ts --model "$3" --batch 1 --heavy-reps 3 --no-write --no-cold-start 2>/dev/null | grep -E '^\| ' || true)
}
echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for r in $(seq 1 "$rounds"); do
  for m in ${models//,/ }; do
    echo "# round $r of $rounds, $m"
    run "$tmp/a" before "$m"
    run "$tmp/b" after "$m"
  done
done
