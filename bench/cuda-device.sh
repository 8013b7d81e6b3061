#!/usr/bin/env bash
# CUDA backend on a GPU machine that has nvcc but no Node and no node_modules
# (this workplace's device machines: 600 s per command, 64 MiB carried).
#
#   bash bench/cuda-device.sh pack                 # here: fills .gpu/ (it ignores itself), checks its size
#   bash bench/cuda-device.sh all [options]        # there, with .gpu carried: the one-go device call
#   bash bench/cuda-device.sh all --dry-run [...]  # here or there: the plan and its time budget, nothing run
#   bash bench/cuda-device.sh run [sections]       # there: build, equality check, bench/cuda-bench.ts sections
#                                                  # (`run narrow elems`: the unmeasured kernels against native, for their thresholds)
#
# pack: the node binary stripped (symbols, debug info) and xz-compressed, the Node headers (for N-API), self-contained
# esbuild bundles (bench/cuda-check.ts, bench/cuda-bench.ts, bench/run.ts via
# bench/run-bundle-entry.ts, and the party program parties/bundle-entry.ts,
# with parties/proto beside them)
# and the DenseNet-121 zoo fixture (from $MPC_ZOO_SRC, default
# ../shared/fixtures/zoo; packed file by file with xz, unpacked by all / run
# into $GPU_NODE_DIR/zoo, never committed). The pack fails when it and the
# working tree exceed the 64 MiB the device tool carries.
#
# all: unpacks node, builds the CUDA addon (scripts/build-cuda.mjs --strict)
# and the CPU native addon (g++) side by side, runs the equality check
# (bench/cuda-check.ts: reference = ts = native = cuda, every GPU op forced to
# the GPU, the 32-bit ring's kernels and ring-elems.h's included), then `npm run bench` (the bundled bench/run.ts) with three party
# processes over gRPC + mTLS, one bench/run.ts call per model (model and
# precision chooser once) with the parties' kernels 'cuda' (npm start --
# --gpu's config) and then 'cpu', batch 1: the seed CNN (10 reps after
# warm-up), ResNet-50, DenseNet-121 224, VGG16 224 (heavy: one run each
# straight after start-up, --heavy-warmup 0). A model starts only when the
# time left in the budget (--budget, default 560 s) covers its estimate; its
# JSON is written after each kernel set, so a call cut short keeps the cuda
# row. Logs, JSON and a summary go to $OUT. Options: --models "m1 m2"
# (bench/run.ts keys), --budget S, --dry-run, --cpu-only (no CUDA build, no
# check, cpu legs only: the self-test of the pack on a machine without a GPU).
set -u -o pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
shift || true
USAGE="usage: $0 pack | all [--models \"m1 m2\"] [--budget S] [--dry-run] [--cpu-only] | run [sections]"
GPU=.gpu
CARRY_LIMIT=$((64 * 1024 * 1024))
ZOO_PACKED=(densenet121-chexnet)
BANNER='import { createRequire as __mpcRequire } from "node:module"; const require = __mpcRequire(import.meta.url);'

# Seconds one model is expected to take on the device with both kernel sets (import and the precision
# chooser once, then per set: launch, runs; 16 vCPUs), and the bench/run.ts options of each model. Guesses
# from bench/CUDA-RESULTS.md run 4 (VGG16 224 forward: 34 s cuda, 47 s native) and the 2-core self-test
# (DenseNet-121's chooser: 65 s there), not yet measured as served runs on a device.
leg_estimate() {
  local per; case $2 in cuda\ cpu|cpu\ cuda) per=2 ;; *) per=1 ;; esac
  case $1 in cnn-maxpool|cnn-avgpool) echo $((5 + per * 20)) ;; resnet50) echo $((20 + per * 40)) ;; densenet121) echo $((35 + per * 45)) ;; vgg16) echo $((10 + per * 75)) ;; *) echo $((30 + per * 60)) ;; esac
}
leg_args() { case $1 in cnn-maxpool|cnn-avgpool|networkA) echo "--reps 10 --warmup 2 --warmup-s 3" ;; *) echo "--heavy-reps 1 --heavy-warmup 0" ;; esac; }
SETUP_ESTIMATE=40   # unpack, nvcc (two archs, ~15 s on 2 cores here) and g++ (one process per file) side by side
CHECK_ESTIMATE=45   # bench/cuda-check.ts, large cases

if [ "$mode" = pack ]; then
  set -e
  mkdir -p "$GPU"
  # The folder ignores itself (as build-cuda/ does): git-ignored, so the device tool carries it only when asked,
  # and no checkout's shared .git/info/exclude is touched.
  echo '*' > "$GPU/.gitignore"
  node_bin=$(readlink -f "$(command -v node)")
  # The node binary without its symbol table and debug info (strip keeps .dynsym, which N-API addons link
  # against; checked by loading the CPU addon with it when built): 12 MB less before xz. node.strip marks it.
  if [ ! -s "$GPU/node.xz" ] || [ "$node_bin" -nt "$GPU/node.xz" ] || [ ! -f "$GPU/node.strip" ]; then
    rm -f "$GPU/node.strip"
    stripped=$(mktemp)
    if command -v strip >/dev/null && strip -o "$stripped" "$node_bin" && "$stripped" -e 'process.exit(0)'; then
      if [ -f build/Release/securenn_kernels.node ]; then
        "$stripped" -e 'const m = { exports: {} }; process.dlopen(m, process.argv[1]); if (typeof m.exports.gemm !== "function") process.exit(1)' "$PWD/build/Release/securenn_kernels.node" \
          || { echo "error: the stripped node cannot load build/Release/securenn_kernels.node" >&2; rm -f "$stripped"; exit 1; }
      fi
      echo stripped > "$GPU/node.strip"
    else
      echo "warning: strip failed or missing: packing the node binary as it is" >&2
      cp "$node_bin" "$stripped"; echo unstripped > "$GPU/node.strip"
    fi
    xz -9 -T2 -c "$stripped" > "$GPU/node.xz"
    rm -f "$stripped"
  fi
  inc=$(dirname "$(dirname "$(readlink -f "$node_bin")")")/include/node
  [ -f "$inc/node_api.h" ] || inc=/usr/include/node
  tar -C "$(dirname "$inc")" -cJf "$GPU/node-include.tar.xz" node
  echo "$(git rev-parse --short HEAD) (+$(git status --porcelain | wc -l) uncommitted files)" > "$GPU/commit.txt"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for f in bench/cuda-check.ts bench/cuda-bench.ts bench/run-bundle-entry.ts parties/bundle-entry.ts; do
    out=$(basename "$f" .ts); [ "$out" = run-bundle-entry ] && out=bench-run; [ "$out" = bundle-entry ] && out=party
    npx esbuild --bundle --platform=node --format=esm --target=node20 --log-level=warning --legal-comments=none "--banner:js=$BANNER" "$f" --outfile="$tmp/$out.mjs"
  done
  # The party bundle resolves ./proto/party.proto next to itself (parties/mesh-service.ts); .gpu/ is one level deep, like parties/.
  mkdir -p "$tmp/proto" && cp parties/proto/*.proto "$tmp/proto/"
  tar -C "$tmp" -cJf "$GPU/bundles.tar.xz" .
  rm -f "$GPU"/cuda-check.mjs "$GPU"/cuda-bench.mjs
  zoo_src=${MPC_ZOO_SRC:-../shared/fixtures/zoo}
  for m in "${ZOO_PACKED[@]}"; do
    # Every file xz-compressed (model.keras stores its weights uncompressed: 29.7 MB -> 24.8 MB); `all`/`run` unpack them.
    if [ -d "$zoo_src/$m" ]; then
      rm -rf "$GPU/zoo/$m" && mkdir -p "$GPU/zoo/$m"
      for f in "$zoo_src/$m"/*; do xz -6 -T2 -c "$f" > "$GPU/zoo/$m/$(basename "$f").xz"; done
    else echo "warning: $zoo_src/$m missing: its rows will fail on the device" >&2; fi
  done
  du -ab "$GPU" | sort -n | tail -8
  size=$(du -sb "$GPU" | cut -f1)
  # The working tree travels too (tracked and untracked, not ignored files); counted with the carry, to be safe.
  tree=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -1 | cut -f1)
  echo "packed $GPU: $size bytes; with the working tree ($tree bytes) $((size + tree)) bytes, $(( (size + tree) * 100 / CARRY_LIMIT ))% of the device tool's 64 MiB"
  [ $((size + tree)) -le "$CARRY_LIMIT" ] || { echo "error: $GPU and the working tree are over the 64 MiB the device tool carries" >&2; exit 1; }
  exit 0
fi

if [ "$mode" != run ] && [ "$mode" != all ]; then echo "$USAGE" >&2; exit 2; fi

models="cnn-maxpool resnet50 densenet121 vgg16" budget=560 dry=0 cpu_only=0 sections=()
if [ "$mode" = all ]; then
  while [ $# -gt 0 ]; do
    case $1 in
      --models) models=${2:-}; shift 2 || { echo "--models needs a value" >&2; exit 2; } ;;
      --budget) budget=${2:-}; shift 2 || { echo "--budget needs a value" >&2; exit 2; } ;;
      --dry-run) dry=1; shift ;;
      --cpu-only) cpu_only=1; shift ;;
      *) echo "unknown option '$1'; $USAGE" >&2; exit 2 ;;
    esac
  done
  [[ $budget =~ ^[0-9]+$ ]] && [ "$budget" -ge 60 ] && [ "$budget" -le 595 ] || { echo "--budget must be an integer in 60..595 (the device tool stops a command at 600 s), got '$budget'" >&2; exit 2; }
  for m in $models; do [[ $m =~ ^[a-z0-9-]+$ ]] || { echo "bad model key '$m'" >&2; exit 2; }; done
  [ -n "$models" ] || { echo "--models is empty" >&2; exit 2; }
else
  sections=("$@")
fi
kernel_sets="cuda cpu"
[ $cpu_only = 1 ] && kernel_sets=cpu

if [ $dry = 1 ]; then
  total=$(( SETUP_ESTIMATE + (cpu_only ? 0 : CHECK_ESTIMATE) ))
  echo "plan (budget ${budget} s; the device tool allows 600 s per command):"
  echo "  setup: unpack node, build the CUDA addon$([ $cpu_only = 1 ] && echo ' (skipped: --cpu-only)') and the native addon: ~${SETUP_ESTIMATE} s"
  [ $cpu_only = 1 ] || echo "  equality check (bench/cuda-check.ts): ~${CHECK_ESTIMATE} s"
  for m in $models; do
    e=$(leg_estimate "$m" "$kernel_sets"); total=$((total + e))
    echo "  bench $m, parties' kernels ${kernel_sets// / then }: ~${e} s: node .gpu/bench-run.mjs --model $m --batch 1 --kernels ${kernel_sets// /,} --no-write --no-cold-start $(leg_args "$m") --json \$OUT/serve-$m.json"
  done
  echo "expected total ~${total} s$([ $total -gt "$budget" ] && echo ' (over the budget: the last legs would be skipped)')"
  if [ -d "$GPU" ]; then echo "carry: $GPU is $(du -sb "$GPU" | cut -f1) bytes (limit $CARRY_LIMIT)"; else echo "carry: $GPU not packed yet (bash $0 pack)"; fi
  exit 0
fi

T0=$SECONDS
OUT=${OUT:-.bench-out}
export OUT
mkdir -p "$OUT"
[ -s "$GPU/node.xz" ] && [ -s "$GPU/bundles.tar.xz" ] || { echo "$GPU is not packed (run 'bash $0 pack' where Node and esbuild are)" >&2; exit 1; }
G=${GPU_NODE_DIR:-/tmp/gpu-node}
mkdir -p "$G/bin" "$G/include"
xz -dc "$GPU/node.xz" > "$G/bin/node" && chmod +x "$G/bin/node"
tar -C "$G/include" -xJf "$GPU/node-include.tar.xz"
tar -C "$GPU" -xJf "$GPU/bundles.tar.xz"
# The zoo fixtures travel xz-compressed (pack): unpacked outside the repository (never carried back), where MPC_ZOO_DIR points.
for f in "$GPU"/zoo/*/*.xz; do [ -e "$f" ] || continue; m=$(basename "$(dirname "$f")"); mkdir -p "$G/zoo/$m"; xz -dc "$f" > "$G/zoo/$m/$(basename "${f%.xz}")"; done
export PATH=$G/bin:$PATH:/usr/local/cuda/bin
echo "node $(node --version); $(command -v nvcc >/dev/null && nvcc --version | tail -1 || echo 'no nvcc')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv
lscpu | grep -E 'Model name|^CPU\(s\)' || true

# The CPU native addon (g++, one compiler per file) builds beside nvcc.
native_log="$OUT/native-build.log"
nflags="-O3 -std=c++17 -fexceptions -fPIC -pthread -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -I$G/include/node"
( rm -rf /tmp/native-obj && mkdir -p /tmp/native-obj \
  && printf '%s\n' protocol/kernels/native/*.cc | xargs -P "$(nproc)" -I{} sh -c 'g++ '"$nflags"' -c "$1" -o /tmp/native-obj/$(basename "$1" .cc).o' _ {} \
  && g++ -shared -pthread /tmp/native-obj/*.o -o /tmp/securenn_kernels.node ) 2>"$native_log" &
native_pid=$!
if [ $cpu_only = 0 ]; then
  node scripts/build-cuda.mjs --strict --force 2>&1 | tee "$OUT/build.log" || { echo "CUDA addon build failed"; wait $native_pid; exit 1; }
fi
if wait $native_pid; then
  export MPC_NATIVE_ADDON=/tmp/securenn_kernels.node
  echo "CPU native addon built with g++" | tee -a "$OUT/build.log"
else
  echo "CPU native addon did not build with g++ ($native_log): the TS kernels are the CPU side" | tee -a "$OUT/build.log"
fi
BENCH_COMMIT=$(cat "$GPU/commit.txt" 2>/dev/null || echo unknown)
export BENCH_COMMIT
echo "bundles packed from $BENCH_COMMIT; setup took $((SECONDS - T0)) s"

check=0
if [ $cpu_only = 0 ]; then
  node "$GPU/cuda-check.mjs" 2>&1 | tee "$OUT/check.log"
  check=${PIPESTATUS[0]}
  [ "$check" = 2 ] && { echo "no usable CUDA device: stopping"; exit 2; }
fi

if [ "$mode" = run ]; then
  node "$GPU/cuda-bench.mjs" "${sections[@]}" 2>&1 | tee "$OUT/bench.log"
  bench=${PIPESTATUS[0]}
  echo "check exit $check, bench exit $bench"
  exit $(( check != 0 ? check : bench ))
fi

# all: the served bench, three party processes per leg.
export PARTY_BUNDLE=$PWD/$GPU/party.mjs MPC_ZOO_DIR=$G/zoo MPC_BENCH_NO_TFJS=1
failed=0
for m in $models; do
  left=$(( budget - (SECONDS - T0) )) need=$(leg_estimate "$m" "$kernel_sets")
  if [ $left -lt "$need" ]; then echo "skipped $m: ${left} s left of the ${budget} s budget, it needs ~${need} s" | tee -a "$OUT/serve-summary.txt"; continue; fi
  t=$SECONDS
  # shellcheck disable=SC2046
  timeout --kill-after=5 $(( left - 3 )) node "$GPU/bench-run.mjs" --model "$m" --batch 1 --kernels "${kernel_sets// /,}" --no-write --no-cold-start $(leg_args "$m") \
    --json "$OUT/serve-$m.json" > "$OUT/serve-$m.md" 2> "$OUT/serve-$m.log"
  rc=$?
  [ $rc = 0 ] || failed=1
  echo "$m: exit $rc in $((SECONDS - t)) s" | tee -a "$OUT/serve-summary.txt"
  tail -3 "$OUT/serve-$m.log"
done
node -e '
const fs = require("fs"), out = process.env.OUT;
for (const f of fs.readdirSync(out).filter((f) => /^serve-.*\.json$/.test(f)).sort()) {
  const { cases } = JSON.parse(fs.readFileSync(`${out}/${f}`, "utf8"));
  const num = (v, f) => (typeof v === "number" && Number.isFinite(v) ? f(v) : "-");
  for (const c of cases) console.log(`${c.label}: median ${num(c.latencyMs?.median, (v) => v.toFixed(0))} ms (first ${num(c.firstMs, (v) => v.toFixed(0))} ms, ${c.reps} reps), ${c.rounds} rounds, max rel. err ${num(c.maxRelErr, (v) => v.toExponential(1))}${c.error ? `, error: ${c.error}` : ""}`);
}' | tee -a "$OUT/serve-summary.txt"
echo "total $((SECONDS - T0)) s; check exit $check, bench legs $([ $failed = 0 ] && echo ok || echo 'not all ok')"
exit $(( check != 0 ? check : failed ))
