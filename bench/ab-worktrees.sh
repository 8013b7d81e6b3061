# Sourced by bench/ab.sh and bench/ab-zoo.sh: the two sides of an A/B, each
# commit checked out in a temporary git worktree that shares this clone's
# node_modules and build/ (the native addon: the newer one, a superset of the
# kernels both commits call), removed on exit.
#   ab_worktrees <commit-before> <commit-after>   sets $tmp: $tmp/a, $tmp/b
#   ab_cold_flag <worktree>                      prints --no-cold-start when that side's bench/run.ts knows it
ab_worktrees() {
  root=$(git rev-parse --show-toplevel)
  tmp=$(mktemp -d)
  trap 'for d in "$tmp"/a "$tmp"/b; do git -C "$root" worktree remove --force "$d" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
  local side rev
  for side in a b; do
    rev=$([ "$side" = a ] && echo "$1" || echo "$2")
    git -C "$root" worktree add -q --detach "$tmp/$side" "$rev"
    ln -s "$root/node_modules" "$tmp/$side/node_modules"
    ln -s "$root/build" "$tmp/$side/build"
  done
  [ -e "$tmp/shared" ] || ln -s "$root/../shared" "$tmp/shared"
}
ab_cold_flag() {
  if grep -q -- '--no-cold-start' "$1/bench/run.ts"; then echo --no-cold-start; fi
}
