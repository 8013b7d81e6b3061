#!/usr/bin/env bash
# MP-SPDZ as a peer (bench/peers/README.md): fetch, build, compile our two
# networks, run three parties on loopback and print times.
#
#   bench/peers/mp-spdz.sh setup     apt packages, clone MPSPDZ_SRC into MPSPDZ_DIR, stand-ins for the missing submodules
#   bench/peers/mp-spdz.sh build [PARTY...]   nice -n 15 make -j2 PARTY-party.x (default: replicated-ring ps-rep-ring; 20+ minutes on 2 cores)
#   bench/peers/mp-spdz.sh compile   peer_nets.mpc for networkA and cnn-maxpool, semi-honest (trunc_pr) and malicious variants
#   bench/peers/mp-spdz.sh run NET [PARTY] [REPS]
#        NET: networkA | cnn-maxpool; PARTY: replicated-ring (default) | ps-rep-ring | sy-rep-ring
#        Runs the three parties REPS times (default 3) and prints one line per run:
#        'mp-spdz PARTY NET rep i: forward_s=... forward_party0_MB=... forward_rounds=... total_s=...
#         party0_MB=... rounds=... global_MB=...' (forward: timer 1, the inference alone;
#        total: with party 0's input of weights and image; MP-SPDZ counts rounds double when multi-threaded)
#        and then the compare.ts check of the revealed logits against ours.
#
# Environment:
#   MPSPDZ_SRC  checkout path or clone URL (default /work/.mirror/data61+MP-SPDZ/repo; commit 3a0a7b1 tested)
#   MPSPDZ_DIR  build tree, outside the repo (default /work/peers/MP-SPDZ)
#   PEER_DATA   export-weights.ts output (default /work/peers/data)
#   MPSPDZ_COMMIT  optional commit to check out after cloning
#   MPSPDZ_TIMEOUT seconds after which a party is killed (default 900; a failed party leaves the others waiting)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SRC=${MPSPDZ_SRC:-/work/.mirror/data61+MP-SPDZ/repo}
DIR=${MPSPDZ_DIR:-/work/peers/MP-SPDZ}
DATA=${PEER_DATA:-/work/peers/data}
NETS="networkA cnn-maxpool"

die() { echo "mp-spdz.sh: $*" >&2; exit 1; }

setup() {
  apt-get install -y --no-install-recommends clang libboost-dev libboost-thread-dev \
    libboost-filesystem-dev libboost-iostreams-dev libsodium-dev libgmp-dev libssl-dev libsimde-dev openssl
  if [ ! -d "$DIR/.git" ]; then
    mkdir -p "$(dirname "$DIR")"
    git clone -q "$SRC" "$DIR"
    if [ -n "${MPSPDZ_COMMIT:-}" ]; then git -C "$DIR" checkout -q "$MPSPDZ_COMMIT"; fi
  fi
  cd "$DIR"
  # The submodules are not fetched (no network here). The x86-64 build needs
  # none of them for the replicated ring parties, but the object rules depend
  # on deps/simde/simde and deps/sse2neon/sse2neon.h (used on ARM only):
  # Debian's libsimde-dev stands in for the first, an empty file for the second.
  mkdir -p deps/simde deps/sse2neon
  [ -e deps/simde/simde ] || ln -s /usr/include/simde deps/simde/simde
  [ -e deps/sse2neon/sse2neon.h ] || : > deps/sse2neon/sse2neon.h
  touch CONFIG.mine
  [ -e Player-Data/P2.pem ] || Scripts/setup-ssl.sh 3 > /dev/null
  echo "MP-SPDZ at $DIR, commit $(git rev-parse --short HEAD)"
}

build() {
  cd "$DIR"
  local p
  for p in ${*:-replicated-ring ps-rep-ring}; do nice -n 15 make -j2 "$p-party.x"; done
}

compile() {
  cd "$DIR"
  cp "$HERE/peer_nets.mpc" Programs/Source/peer_nets.mpc
  for net in $NETS; do
    # Semi-honest replicated ring: probabilistic truncation and 3-way split, as compile.py -E ring sets.
    nice -n 10 python3 ./compile.py -R 64 -Z 3 peer_nets "$net" trunc_pr > "logs-compile-$net-trunc_pr.txt"
    # Malicious rings: split, no probabilistic truncation (compile.py -E ps-rep-ring sets no trunc_pr).
    nice -n 10 python3 ./compile.py -R 64 -Z 3 peer_nets "$net" > "logs-compile-$net.txt"
  done
  echo "compiled: $(ls Programs/Schedules | grep peer_nets | tr '\n' ' ')"
}

run_net() {
  local net=${1:?NET} party=${2:-replicated-ring} reps=${3:-3}
  local prog="peer_nets-$net" bin="$DIR/$party-party.x"
  [ "$party" = replicated-ring ] && prog="$prog-trunc_pr"
  [ -x "$bin" ] || die "$bin is not built (run: $0 build)"
  [ -e "$DIR/Programs/Schedules/$prog.sch" ] || die "$prog is not compiled (run: $0 compile)"
  [ -e "$DATA/$net/Input-P0-0" ] || die "$DATA/$net/Input-P0-0 missing (run: npx tsx bench/peers/export-weights.ts --out $DATA)"
  cd "$DIR"
  cp "$DATA/$net/Input-P0-0" Player-Data/Input-P0-0
  : > Player-Data/Input-P1-0; : > Player-Data/Input-P2-0
  mkdir -p logs
  local logits=""
  for i in $(seq 1 "$reps"); do
    local port=$((20000 + RANDOM % 20000)) pids=()
    for p in 0 1 2; do
      timeout "${MPSPDZ_TIMEOUT:-900}" "$bin" -p $p -h localhost -pn $port "$prog" > "logs/peer-$net-$party-P$p.txt" 2>&1 &
      pids+=($!)
    done
    local rc=0
    for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
    local log="logs/peer-$net-$party-P0.txt"
    [ $rc -eq 0 ] || { cat "$log" >&2; die "a party failed (rc $rc) on $net"; }
    local fwd fmb frounds total mb rounds gmb
    fwd=$(sed -n 's/^Time1 = \([0-9.e+-]*\) seconds.*/\1/p' "$log")
    fmb=$(sed -n 's/^Time1 = .* seconds (\([0-9.e+-]*\) MB.*/\1/p' "$log")
    frounds=$(sed -n 's/^Time1 = .* MB, \([0-9]*\) rounds.*/\1/p' "$log")
    total=$(sed -n 's/^Time = \([0-9.e+-]*\) seconds.*/\1/p' "$log")
    mb=$(sed -n 's/^Data sent = \([0-9.e+-]*\) MB.*/\1/p' "$log")
    rounds=$(sed -n 's/^Data sent = .* in ~\([0-9]*\) rounds.*/\1/p' "$log")
    gmb=$(sed -n 's/^Global data sent = \([0-9.e+-]*\) MB.*/\1/p' "$log")
    logits=$(sed -n 's/^peer-logits //p' "$log")
    echo "mp-spdz $party $net rep $i: forward_s=$fwd forward_party0_MB=$fmb forward_rounds=$frounds total_s=$total party0_MB=$mb rounds=$rounds global_MB=$gmb"
  done
  (cd "$REPO" && npx tsx bench/peers/compare.ts --data "$DATA" --model "$net" --peer "mp-spdz-$party" --logits "$logits")
}

case "${1:-}" in
  setup) setup ;;
  build) shift; build "$@" ;;
  compile) compile ;;
  run) shift; run_net "$@" ;;
  *) sed -n '2,21p' "$0"; exit 2 ;;
esac
