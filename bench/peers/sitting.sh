#!/usr/bin/env bash
# One sitting of the peer comparison (bench/peers/README.md): ours, MP-SPDZ
# (semi-honest replicated ring; malicious ps-rep-ring and sy-rep-ring where built) and CrypTen (2PC + TTP) on the
# two networks, alternating, ROUNDS times; every log goes to OUT.
#
#   bench/peers/sitting.sh [ROUNDS=2] [OUT=/work/peers/sitting-<date>]
#
# Needs: export-weights.ts output in PEER_DATA, `mp-spdz.sh build` and
# `mp-spdz.sh compile` done, CrypTen importable from CRYPTEN_DIR.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROUNDS=${1:-2}
OUT=${2:-/work/peers/sitting-$(date -u +%Y%m%dT%H%M%S)}
CRYPTEN_DIR=${CRYPTEN_DIR:-/work/peers/CrypTen}
MPSPDZ_DIR=${MPSPDZ_DIR:-/work/peers/MP-SPDZ}
export MPSPDZ_DIR
# shellcheck source=sitting-lib.sh
. "$HERE/sitting-lib.sh"
sitting_versions "CrypTen: $(git -C "$CRYPTEN_DIR" rev-parse --short HEAD)" "torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"

cd "$REPO"
for r in $(seq 1 "$ROUNDS"); do
  note "round $r: ours"
  nice -n 10 npm run bench -- --model networkA,cnn-maxpool --batch 1 --no-write --no-cold-start --light-reps 100 --reps 5 > "$OUT/ours-$r.txt" 2>&1
  note "round $r: mp-spdz replicated-ring"
  "$HERE/mp-spdz.sh" run networkA replicated-ring 5 > "$OUT/mpspdz-rep-networkA-$r.txt" 2>&1
  "$HERE/mp-spdz.sh" run cnn-maxpool replicated-ring 3 > "$OUT/mpspdz-rep-cnn-$r.txt" 2>&1
  note "round $r: crypten"
  PYTHONPATH="$CRYPTEN_DIR" /usr/bin/python3 "$HERE/crypten_nets.py" --model networkA,cnn-maxpool --reps 5 > "$OUT/crypten-$r.txt" 2> "$OUT/crypten-$r.err"
  for mal in ps sy; do
    note "round $r: mp-spdz $mal-rep-ring (malicious)"
    if [ -x "$MPSPDZ_DIR/$mal-rep-ring-party.x" ]; then
      "$HERE/mp-spdz.sh" run networkA $mal-rep-ring 5 > "$OUT/mpspdz-$mal-networkA-$r.txt" 2>&1
      "$HERE/mp-spdz.sh" run cnn-maxpool $mal-rep-ring 1 > "$OUT/mpspdz-$mal-cnn-$r.txt" 2>&1
    else
      note "$mal-rep-ring-party.x not built; skipped"
    fi
  done
done
note "done"
for f in "$OUT"/crypten-*.txt; do
  while read -r line; do
    model=$(echo "$line" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')
    logits=$(echo "$line" | /usr/bin/python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["logits"])))')
    npx tsx "$HERE/compare.ts" --model "$model" --peer crypten-2pc-ttp --logits "$logits" >> "$OUT/crypten-compare.txt"
  done < "$f"
done
grep -h "rep \|ok" "$OUT"/mpspdz-*.txt "$OUT/crypten-compare.txt" | tee -a "$OUT/sitting.txt"
npx tsx "$HERE/summarize.ts" "$OUT" | tee "$OUT/table.md"
