#!/usr/bin/env bash
# Installs the npm `oidc-provider` package (pinned) that the trusted-issuer tests run on loopback.
# Idempotent and quiet; fails loudly when Node.js or the registry is unavailable.
set -euo pipefail

VERSION="9.13.3"
DIR="${RAMPART_OIDC_PROVIDER_DIR:-/root/.cache/rampart-tools/oidc-provider}"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm
fi

installed="$DIR/node_modules/oidc-provider/package.json"
if [ -f "$installed" ] && grep -q "\"version\": \"$VERSION\"" "$installed"; then
    exit 0
fi

mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || printf '{ "name": "rampart-oidc-provider", "private": true }\n' > package.json
npm install --no-audit --no-fund --silent --save-exact "oidc-provider@$VERSION"
grep -q "\"version\": \"$VERSION\"" "$installed"
