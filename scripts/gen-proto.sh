#!/usr/bin/env bash
# Generates the TypeScript wire types from proto/ with ts-proto (protoc from Debian's
# protobuf-compiler). Output: proto/gen/ (committed; CI checks it is up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "gen-proto: protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
rm -rf proto/gen
mkdir -p proto/gen
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out=proto/gen \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,importSuffix=.js,forceLong=number,useOptionals=messages,oneof=unions-value,useDate=false,outputTypeRegistry=false,stringEnums=false,unrecognizedEnum=false \
  -I proto \
  proto/ecguard/v1/*.proto
echo "gen-proto: wrote $(find proto/gen -name '*.ts' | wc -l) files"
