#!/usr/bin/env bash
# Fails when proto/gen is not what scripts/gen-proto.sh makes from proto/*.proto.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r proto/gen "$tmp/before"
bash scripts/gen-proto.sh >/dev/null
if ! diff -r "$tmp/before" proto/gen >/dev/null; then
  echo "check-proto: proto/gen is out of date: run scripts/gen-proto.sh and commit the result" >&2
  rm -rf proto/gen && cp -r "$tmp/before" proto/gen
  exit 1
fi
echo "check-proto: generated code up to date"
