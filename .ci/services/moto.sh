#!/usr/bin/env bash
# Installs moto's server (`moto_server`), the AWS Secrets Manager stand-in the AWS-backend
# tests start on loopback, into a private venv. Idempotent, quiet, fails loudly.
set -euo pipefail

VERSION="5.2.5"
VENV="/root/.cache/rampart-tools/moto"

if [ -x "$VENV/bin/moto_server" ] \
    && "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$VERSION')"; then
    exit 0
fi
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$VERSION"
"$VENV/bin/python" -c "import moto; print('moto', moto.__version__)"
