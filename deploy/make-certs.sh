#!/usr/bin/env bash
# Creates the mutual-TLS material for ecguard with openssl only: a CA, a coordinator server
# certificate, one certificate per agent (client + server: agents also serve Stripes to peers)
# and an admin client certificate for the CLI.
#
#   deploy/make-certs.sh OUTDIR --coordinator HOSTNAME[,IP...] --agents srv01,srv02,...
#                        [--admin NAME] [--days N]
#
# Idempotent: an existing CA is kept and only missing certificates are issued, so adding a
# server is a re-run with its id. It never overwrites a key: a key without its certificate
# (or the reverse) stops the run, because silently re-keying would break a deployed peer.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: deploy/make-certs.sh OUTDIR --coordinator HOSTNAME[,IP...] --agents ID[,ID...]
                            [--admin NAME] [--days N]
  OUTDIR         directory for ca.pem/ca.key, coordinator.pem/.key, agent-ID.pem/.key, admin-NAME.pem/.key
  --coordinator  DNS names and IPs the coordinator is reached by (localhost, 127.0.0.1 always added)
  --agents       server ids, one agent certificate each (CN=ID, SAN URI ecguard://server/ID)
  --admin        operator name for a CLI certificate (CN=NAME, SAN URI ecguard://admin/NAME)
  --days         validity of new leaf certificates (default 825; the CA gets at least 3650)
EOF
  exit 2
}

die() { echo "make-certs: $*" >&2; exit 1; }

command -v openssl >/dev/null || die "openssl not found on PATH"

[ $# -ge 1 ] || usage
case "$1" in -*) usage ;; esac
OUT=$1; shift
COORD="" AGENTS="" ADMIN="" DAYS=825
while [ $# -gt 0 ]; do
  case "$1" in
    --coordinator) [ $# -ge 2 ] || usage; COORD=$2; shift 2 ;;
    --agents) [ $# -ge 2 ] || usage; AGENTS=$2; shift 2 ;;
    --admin) [ $# -ge 2 ] || usage; ADMIN=$2; shift 2 ;;
    --days) [ $# -ge 2 ] || usage; DAYS=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "make-certs: unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$DAYS" =~ ^[1-9][0-9]{0,4}$ ]] || die "--days must be a positive number of days, got '$DAYS'"
CA_DAYS=$(( DAYS > 3650 ? DAYS : 3650 ))

# Ids end up in file names, subjects and URIs: keep them to a safe alphabet.
ID_RE='^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'
check_id() { [[ "$2" =~ $ID_RE ]] || die "$1 '$2' is not a valid id (letters, digits, . _ -; max 63)"; }

IFS=',' read -r -a AGENT_IDS <<< "$AGENTS"
for id in ${AGENT_IDS[@]+"${AGENT_IDS[@]}"}; do check_id "agent id" "$id"; done
[ -z "$ADMIN" ] || check_id "admin name" "$ADMIN"

mkdir -p "$OUT"
chmod 700 "$OUT" 2>/dev/null || true
TMP=$(mktemp -d "$OUT/.make-certs.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
umask 077

made=() kept=()

# A key and its certificate exist together or not at all; anything else needs a human.
# Returns 0 when the pair must be created, 1 when it exists and is kept.
need_pair() {
  local name=$1 key="$OUT/$1.key" crt="$OUT/$1.pem"
  if [ -e "$key" ] && [ -e "$crt" ]; then kept+=("$name.pem"); return 1; fi
  if [ -e "$key" ]; then
    die "$key exists but $crt does not; refusing to overwrite the key. Restore $crt, or remove $key to issue a new pair."
  fi
  if [ -e "$crt" ]; then
    die "$crt exists but $key does not; restore the key, or remove $crt to issue a new pair."
  fi
  return 0
}

# Runs openssl quietly (3.x chats on stderr) but shows its words when it fails.
ossl() {
  openssl "$@" 2>"$TMP/openssl.err" || { cat "$TMP/openssl.err" >&2; die "openssl $1 failed"; }
}

new_key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; chmod 600 "$1"; }

serial() { echo "0x$(openssl rand -hex 16)"; }

# Moves a finished pair from TMP into OUT without clobbering anything that appeared meanwhile.
install_pair() {
  local name=$1
  [ ! -e "$OUT/$name.key" ] || die "$OUT/$name.key appeared during the run; not overwriting it"
  mv -n "$TMP/$name.key" "$OUT/$name.key"
  chmod 644 "$TMP/$name.pem"
  mv -n "$TMP/$name.pem" "$OUT/$name.pem"
  made+=("$name.pem ($2)")
}

# --- CA -------------------------------------------------------------------------------------
if need_pair ca; then
  cat > "$TMP/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ecguard CA
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
  new_key "$TMP/ca.key"
  ossl req -x509 -new -key "$TMP/ca.key" -config "$TMP/ca.cnf" -extensions v3_ca \
    -days "$CA_DAYS" -set_serial "$(serial)" -sha256 -out "$TMP/ca.pem"
  install_pair ca "CA, $CA_DAYS days"
fi

# Issues NAME.pem/.key signed by the CA. $2 = CN, $3 = extendedKeyUsage, $4 = subjectAltName.
issue() {
  local name=$1 cn=$2 eku=$3 san=$4
  need_pair "$name" || return 0
  [ -r "$OUT/ca.key" ] || die "cannot read $OUT/ca.key (needed to issue $name.pem)"
  new_key "$TMP/$name.key"
  ossl req -new -key "$TMP/$name.key" -subj "/CN=$cn" -out "$TMP/$name.csr"
  cat > "$TMP/$name.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = $eku
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  ossl x509 -req -in "$TMP/$name.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" \
    -set_serial "$(serial)" -days "$DAYS" -sha256 -extfile "$TMP/$name.ext" \
    -out "$TMP/$name.pem"
  install_pair "$name" "CN=$cn; $san"
}

# --- coordinator: server certificate for every name it is dialled by ------------------------
IFS=',' read -r -a COORD_NAMES <<< "$COORD"
COORD_NAMES+=(localhost 127.0.0.1)
san="" seen=","
for n in "${COORD_NAMES[@]}"; do
  [ -n "$n" ] || continue
  case "$seen" in *",$n,"*) continue ;; esac
  seen="$seen$n,"
  if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then entry="IP:$n"
  elif [[ "$n" =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*)$ ]]; then entry="DNS:$n"
  else die "--coordinator: '$n' is neither a host name nor an IP address"
  fi
  san="${san:+$san, }$entry"
done
coord_existed=0; [ ! -e "$OUT/coordinator.pem" ] || coord_existed=1
issue coordinator "${COORD_NAMES[0]}" serverAuth "$san"
if [ -z "$COORD" ] && [ "$coord_existed" = 0 ]; then
  echo "make-certs: note: no --coordinator given; the coordinator certificate names only localhost, 127.0.0.1" >&2
fi

# --- agents: client (to the coordinator) and server (Stripes for peers) ---------------------
for id in ${AGENT_IDS[@]+"${AGENT_IDS[@]}"}; do
  issue "agent-$id" "$id" "clientAuth, serverAuth" "URI:ecguard://server/$id, DNS:localhost, IP:127.0.0.1"
done

# --- operator CLI ---------------------------------------------------------------------------
if [ -n "$ADMIN" ]; then
  issue "admin-$ADMIN" "$ADMIN" clientAuth "URI:ecguard://admin/$ADMIN"
fi

echo "certificates in $OUT"
for m in ${made[@]+"${made[@]}"}; do echo "  made: $m"; done
for k in ${kept[@]+"${kept[@]}"}; do echo "  kept: $k"; done
echo "  CA fingerprint: $(openssl x509 -in "$OUT/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2)"
if [ "$coord_existed" = 1 ] && [ -n "$COORD" ]; then
  echo "  note: coordinator.pem kept with its existing names; remove coordinator.pem and coordinator.key to reissue"
fi
echo "  keep ca.key off the data servers: each host needs ca.pem and only its own .pem/.key"
