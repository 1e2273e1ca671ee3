#!/usr/bin/env bash
# Installs everything ecguard needs on a fresh Debian machine, then builds it:
#   - Debian packages (when missing, and when we are root with apt): ISA-L headers for the
#     native codec, nats-server and the XRootD server/client for the integration tests,
#     attr (getfattr) for the scan benchmark, the PostgreSQL server for the PostgreSQL catalog's
#     tests (they start throw-away clusters of their own: no system cluster is created);
#   - npm packages (npm ci), the native addon (node-gyp against the system ISA-L), TypeScript.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in libisal-dev nats-server xrootd-server xrootd-client attr protobuf-compiler openssl; do
  have "$p" || need_pkgs+=("$p")
done
# any PostgreSQL server version will do (Debian 12: postgresql-15); the tests find initdb under
# /usr/lib/postgresql/*/bin
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql-common postgresql)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if [[ " ${need_pkgs[*]} " == *" postgresql "* ]]; then
      # postgresql-common first, told not to create (and start) a "main" cluster on port 5432
      # when the server package installs: nothing here needs a system PostgreSQL service
      apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
      pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false
    fi
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${need_pkgs[*]}" >&2
    echo "setup: install them as root (apt-get install ${need_pkgs[*]}) and run this again." >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-fund --no-audit --loglevel=error
fi
echo "setup: building the native codec (ISA-L)"
npm run --silent build:native
echo "setup: compiling TypeScript"
npm run --silent build:ts
echo "setup: done"
