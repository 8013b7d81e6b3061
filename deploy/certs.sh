#!/usr/bin/env bash
# Certificates for one SecureNN deployment, made with the openssl CLI:
# one CA per deployment, one key pair per party (CN and SAN DNS party-<id>,
# what parties/tls.ts checks) and one per client.
#
#   deploy/certs.sh all    DIR [--dns-suffix SUFFIX]     CA + party-0..2 + client "demo" (a fresh deployment)
#   deploy/certs.sh ca     DIR                           only the CA (refuses to overwrite one)
#   deploy/certs.sh party  DIR ID [--dns NAME]... [--ip ADDR]...   (re)issue party-<ID> (rotation: the old pair is kept as *.old-<time>)
#   deploy/certs.sh client DIR NAME                      (re)issue client-<NAME> (TLS client auth for the HTTP API)
#   deploy/certs.sh csr    DIR CN                        an operator's own key + CSR (CN party-<id> or client-<name>); the key never leaves DIR
#   deploy/certs.sh sign   CADIR FILE.csr [--dns NAME]... [--ip ADDR]...   the CA holder signs a CSR into FILE.crt (SAN set here, not taken from the CSR)
#   deploy/certs.sh fingerprint FILE.crt                 SHA-256 fingerprint, for the config's tls.pins
#   deploy/certs.sh spki FILE.crt|FILE.csr               base64 SHA-256 of the public key, for the config's tls.spkiPins
#
# Files (PEM): DIR/ca.crt, ca.key; DIR/party-<id>.crt, .key; DIR/client-<name>.crt, .key.
# Keys are EC P-256, written with mode 600. Environment: CA_DAYS (default 3650),
# CERT_DAYS (default 397), CA_NAME (default "securenn-<random> deployment CA").
# Every party certificate also names localhost and 127.0.0.1 (probes, healthcheck)
# and, with --dns-suffix S, party-<id>.S. It never names another party: a SAN with
# another party's name is refused by the peers (parties/tls.ts).
#
# Who runs what (deploy/README.md): `all` is for a test deployment where one person
# holds everything. In production the CA holder runs `ca` and `sign`; each operator
# runs `csr` on its own machine, sends the CSR, and gets back its certificate and
# ca.crt: no private key ever travels. With one organisation per party, each
# organisation is its own CA holder (`ca`, `csr`, `sign` in its own DIR) and sends
# its peers only ca.crt and `spki` of its party certificate (deploy/README.md).
set -euo pipefail
umask 077

CA_DAYS=${CA_DAYS:-3650}
CERT_DAYS=${CERT_DAYS:-397}

die() { echo "certs.sh: $*" >&2; exit 2; }
need_openssl() { command -v openssl >/dev/null 2>&1 || die "the openssl CLI is required"; }
serial() { echo "0x$(openssl rand -hex 16)"; }
stamp() { date -u +%Y%m%dT%H%M%SZ; }

# Keep an existing file as FILE.old-<time> before it is replaced (rotation).
keep_old() {
  local f
  for f in "$@"; do [[ -e "$f" ]] && mv "$f" "$f.old-$(stamp)"; done
  return 0
}

make_ca() {
  local dir=$1
  [[ -e "$dir/ca.key" || -e "$dir/ca.crt" ]] && die "$dir already holds a CA; a deployment has one CA (rotate it as deploy/README.md describes)"
  mkdir -p "$dir"
  local name=${CA_NAME:-"securenn-$(openssl rand -hex 4) deployment CA"}
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days "$CA_DAYS" -subj "/CN=$name" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
  chmod 600 "$dir/ca.key"
  chmod 644 "$dir/ca.crt"
  echo "CA: $dir/ca.crt"
}

# gen_csr DIR CN: a fresh key DIR/CN.key.new and CSR DIR/CN.csr
gen_csr() {
  local dir=$1 cn=$2
  mkdir -p "$dir"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$cn.key.new" -out "$dir/$cn.csr" -subj "/CN=$cn" 2>/dev/null
  chmod 600 "$dir/$cn.key.new"
}

# sign_csr CADIR CSR EKU SAN OUT.crt
sign_csr() {
  local dir=$1 csr=$2 eku=$3 san=$4 out=$5
  [[ -e "$dir/ca.key" && -e "$dir/ca.crt" ]] || die "no CA in $dir (run: certs.sh ca $dir)"
  openssl req -in "$csr" -noout -verify 2>/dev/null || die "$csr is not a valid, self-signed CSR"
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' "$eku" "$san" >"$tmp/ext"
  openssl x509 -req -in "$csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "$(serial)" \
    -days "$CERT_DAYS" -extfile "$tmp/ext" -out "$tmp/crt" 2>/dev/null
  openssl verify -CAfile "$dir/ca.crt" "$tmp/crt" >/dev/null
  keep_old "$out"
  mv "$tmp/crt" "$out"
  chmod 644 "$out"
}

# Subject CN of a CSR.
csr_cn() { openssl req -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p'; }

# issue DIR CN EKU SAN: key + certificate in one place (the CA holder issues for itself or a test deployment)
issue() {
  local dir=$1 cn=$2 eku=$3 san=$4
  [[ -e "$dir/ca.key" && -e "$dir/ca.crt" ]] || die "no CA in $dir (run: certs.sh ca $dir)"
  gen_csr "$dir" "$cn"
  sign_csr "$dir" "$dir/$cn.csr" "$eku" "$san" "$dir/$cn.crt.new"
  keep_old "$dir/$cn.crt" "$dir/$cn.key"
  mv "$dir/$cn.key.new" "$dir/$cn.key"
  mv "$dir/$cn.crt.new" "$dir/$cn.crt"
  rm -f "$dir/$cn.csr"
  echo "$cn: $dir/$cn.crt (sha256 $(fingerprint "$dir/$cn.crt"))"
}

fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# party_san ID [--dns NAME]... [--ip ADDR]... [--dns-suffix S]: prints the SAN of party-<ID>
party_san() {
  local id=$1
  shift
  [[ "$id" =~ ^[012]$ ]] || die "party id must be 0, 1 or 2, got '$id'"
  local san="DNS:party-$id,DNS:localhost,IP:127.0.0.1"
  while [[ $# -gt 0 ]]; do
    case $1 in
      --dns) [[ $# -ge 2 ]] || die "--dns needs a name"
        [[ "$2" =~ ^party-[012]$ && "$2" != "party-$id" ]] && die "party-$id must not name another party ($2) in its SAN"
        [[ "$2" =~ ^[A-Za-z0-9*.-]+$ ]] || die "bad DNS name '$2'"
        san="$san,DNS:$2"; shift 2 ;;
      --ip) [[ $# -ge 2 ]] || die "--ip needs an address"
        [[ "$2" =~ ^[0-9A-Fa-f:.]+$ ]] || die "bad IP address '$2'"
        san="$san,IP:$2"; shift 2 ;;
      --dns-suffix) [[ $# -ge 2 ]] || die "--dns-suffix needs a suffix"
        san="$san,DNS:party-$id.$2"; shift 2 ;;
      *) die "unknown option '$1'" ;;
    esac
  done
  echo "$san"
}

party() {
  local dir=$1 id=$2 san
  shift 2
  san=$(party_san "$id" "$@")
  issue "$dir" "party-$id" "serverAuth,clientAuth" "$san"
}

client() {
  local dir=$1 name=$2
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad client name '$name'"
  issue "$dir" "client-$name" "clientAuth" "DNS:client-$name"
}

need_openssl
cmd=${1:-}
case $cmd in
  all)
    [[ $# -ge 2 ]] || die "usage: certs.sh all DIR [--dns-suffix SUFFIX]"
    dir=$2; shift 2
    extra=()
    if [[ $# -gt 0 ]]; then
      [[ $1 == --dns-suffix && $# -eq 2 ]] || die "usage: certs.sh all DIR [--dns-suffix SUFFIX]"
      extra=(--dns-suffix "$2")
    fi
    make_ca "$dir"
    for id in 0 1 2; do party "$dir" "$id" "${extra[@]}"; done
    client "$dir" demo ;;
  ca)
    [[ $# -eq 2 ]] || die "usage: certs.sh ca DIR"
    make_ca "$2" ;;
  party)
    [[ $# -ge 3 ]] || die "usage: certs.sh party DIR ID [--dns NAME]... [--ip ADDR]..."
    party "${@:2}" ;;
  client)
    [[ $# -eq 3 ]] || die "usage: certs.sh client DIR NAME"
    client "$2" "$3" ;;
  csr)
    [[ $# -eq 3 ]] || die "usage: certs.sh csr DIR CN   (CN: party-<id> or client-<name>)"
    [[ "$3" =~ ^(party-[012]|client-[A-Za-z0-9._-]+)$ ]] || die "CN must be party-<0|1|2> or client-<name>, got '$3'"
    gen_csr "$2" "$3"
    echo "key: $2/$3.key.new (keep it; rename to $3.key when the certificate arrives)"
    echo "CSR: $2/$3.csr (send it to the CA holder)" ;;
  sign)
    [[ $# -ge 3 ]] || die "usage: certs.sh sign CADIR FILE.csr [--dns NAME]... [--ip ADDR]..."
    cadir=$2 csr=$3; shift 3
    cn=$(csr_cn "$csr")
    out="${csr%.csr}.crt"
    if [[ "$cn" =~ ^party-([012])$ ]]; then
      san=$(party_san "${BASH_REMATCH[1]}" "$@")
      sign_csr "$cadir" "$csr" "serverAuth,clientAuth" "$san" "$out"
    elif [[ "$cn" =~ ^client-[A-Za-z0-9._-]+$ && $# -eq 0 ]]; then
      sign_csr "$cadir" "$csr" "clientAuth" "DNS:$cn" "$out"
    else
      die "refusing to sign CN '$cn' (party-<0|1|2>, or client-<name> without extra names)"
    fi
    echo "$cn: $out (sha256 $(fingerprint "$out"))" ;;
  fingerprint)
    [[ $# -eq 2 ]] || die "usage: certs.sh fingerprint FILE.crt"
    fingerprint "$2" ;;
  spki)
    [[ $# -eq 2 ]] || die "usage: certs.sh spki FILE.crt|FILE.csr"
    if [[ $2 == *.csr ]]; then openssl req -in "$2" -noout -pubkey; else openssl x509 -in "$2" -noout -pubkey; fi \
      | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A
    echo ;;
  *)
    sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
    [[ -z $cmd || $cmd == -h || $cmd == --help ]] && exit 0
    exit 2 ;;
esac
