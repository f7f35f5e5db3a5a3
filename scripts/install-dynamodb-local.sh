#!/usr/bin/env bash
# Installs DynamoDB Local (the official emulator, shipped inside the npm package
# amplify-dynamodb-simulator) into a cache folder, once. Prints the folder.
set -euo pipefail
version="2.9.30"
dir="${DYNAMODB_LOCAL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/checkout-idem/dynamodb-local-$version}"
if [[ -f "$dir/DynamoDBLocal.jar" ]]; then echo "$dir"; exit 0; fi
command -v java >/dev/null || { echo "java is required for DynamoDB Local" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required to fetch DynamoDB Local" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$version" >/dev/null && tar xzf amplify-dynamodb-simulator-*.tgz )
mkdir -p "$(dirname "$dir")"
rm -rf "$dir.partial" && mv "$tmp/package/emulator" "$dir.partial" && mv "$dir.partial" "$dir"
echo "$dir"
