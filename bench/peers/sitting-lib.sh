# Sourced by sitting.sh and sitting-malicious.sh after they set OUT (and REPO, MPSPDZ_DIR): the log helper and
# the versions header every sitting writes. Extra header lines come as arguments ("name: value").
mkdir -p "$OUT"

note() { echo "[$(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*" | tee -a "$OUT/sitting.txt"; }

sitting_versions() {
  {
    echo "ours: $(git -C "$REPO" rev-parse --short HEAD)"
    echo "MP-SPDZ: $(git -C "$MPSPDZ_DIR" rev-parse --short HEAD)"
    for line in "$@"; do echo "$line"; done
    echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), nproc $(nproc)"
  } | tee "$OUT/versions.txt"
}
