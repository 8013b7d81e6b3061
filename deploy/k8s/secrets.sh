#!/usr/bin/env bash
# Prints the Kubernetes Secrets of a trio as YAML on stdout (no cluster or
# kubectl needed), from the files deploy/certs.sh made:
#
#   deploy/k8s/secrets.sh CERTS_DIR [PARTY]...  | kubectl -n securenn-blue apply -f -
#
#   party-<N>-tls           type kubernetes.io/tls: tls.crt, tls.key (party-<N>) and ca.crt
#   party-<N>-client-tokens tokens: the clients' bearer tokens AT THIS PARTY,
#                           comma-separated, from $SECURENN_TOKENS_P<N> (only
#                           when that variable is set). Each client holds a
#                           different token for each party, so no operator
#                           can act as a client at another party.
#
# PARTY defaults to 0 1 2 (a staging trio in one cluster). In production each
# operator runs it for its own party only: its key never leaves its cluster.
# Never commit the output: it holds private keys.
set -euo pipefail
die() { echo "secrets.sh: $*" >&2; exit 2; }
[[ $# -ge 1 ]] || die "usage: secrets.sh CERTS_DIR [PARTY]..."
dir=$1; shift
parties=("$@")
[[ ${#parties[@]} -gt 0 ]] || parties=(0 1 2)
b64() { base64 -w0 <"$1"; }
labels() {
  echo "  labels:"
  echo "    app.kubernetes.io/part-of: securenn"
}
first=1
sep() { if [[ $first -eq 0 ]]; then echo "---"; fi; first=0; }
for p in "${parties[@]}"; do
  [[ "$p" =~ ^[012]$ ]] || die "party must be 0, 1 or 2, got '$p'"
  for f in ca.crt "party-$p.crt" "party-$p.key"; do [[ -r "$dir/$f" ]] || die "cannot read $dir/$f"; done
  sep
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "metadata:"
  echo "  name: party-$p-tls"
  labels
  echo "type: kubernetes.io/tls"
  echo "data:"
  echo "  ca.crt: $(b64 "$dir/ca.crt")"
  echo "  tls.crt: $(b64 "$dir/party-$p.crt")"
  echo "  tls.key: $(b64 "$dir/party-$p.key")"
done
for p in "${parties[@]}"; do
  var="SECURENN_TOKENS_P$p"
  [[ -n "${!var:-}" ]] || continue
  sep
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "metadata:"
  echo "  name: party-$p-client-tokens"
  labels
  echo "type: Opaque"
  echo "data:"
  echo "  tokens: $(printf '%s' "${!var}" | base64 -w0)"
done
