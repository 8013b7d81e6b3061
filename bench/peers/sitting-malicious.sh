#!/usr/bin/env bash
# One malicious sitting on MNIST Network A (bench/peers/README.md): ours served
# in malicious mode (npm run bench -- --security malicious: three party
# processes with mTLS, the SDK; semi-honest, malicious with a warm mask pool,
# malicious with the pool off), then MP-SPDZ's malicious replicated rings
# (sy-rep-ring: SPDZ-wise replicated, MACs; ps-rep-ring: post-sacrifice) and
# its semi-honest replicated ring, alternating, ROUNDS times; every log goes
# to OUT, the table to OUT/table.md.
#
#   bench/peers/sitting-malicious.sh [ROUNDS=2] [OUT=/work/peers/sitting-mal-<date>] [REPS=20]
#
# Needs: export-weights.ts output in PEER_DATA, `mp-spdz.sh build sy-rep-ring`
# (and the default build) and `mp-spdz.sh compile` done. Ours runs at f = 16,
# as MP-SPDZ's Network A program (peer_nets.mpc) and bench/run.ts do.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROUNDS=${1:-2}
OUT=${2:-/work/peers/sitting-mal-$(date -u +%Y%m%dT%H%M%S)}
REPS=${3:-20}
MPSPDZ_DIR=${MPSPDZ_DIR:-/work/peers/MP-SPDZ}
export MPSPDZ_DIR
# shellcheck source=sitting-lib.sh
. "$HERE/sitting-lib.sh"
sitting_versions

cd "$REPO"
for r in $(seq 1 "$ROUNDS"); do
  note "round $r: ours, served (semi-honest, malicious warm pool, malicious pool off)"
  nice -n 10 npm run bench -- --security malicious --model networkA --frac-bits 16 --reps "$REPS" --warmup 5 --no-write > "$OUT/ours-mal-$r.txt" 2> "$OUT/ours-mal-$r.err"
  for party in sy ps rep; do
    name=$party-rep-ring
    [ "$party" = rep ] && name=replicated-ring
    note "round $r: mp-spdz $name"
    if [ -x "$MPSPDZ_DIR/$name-party.x" ]; then
      "$HERE/mp-spdz.sh" run networkA "$name" 5 > "$OUT/mpspdz-$party-networkA-$r.txt" 2>&1
    else
      note "$name-party.x not built; skipped"
    fi
  done
done
note "done"
grep -h "rep \|ok" "$OUT"/mpspdz-*.txt | tee -a "$OUT/sitting.txt"
npx tsx "$HERE/summarize.ts" --malicious "$OUT" | tee "$OUT/table.md"
