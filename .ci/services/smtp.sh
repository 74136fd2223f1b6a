#!/usr/bin/env bash
# Installs aiosmtpd, the SMTP server the set-up-mail tests start on loopback (with the test
# kit's CA-signed certificate, STARTTLS or implicit TLS), into a private venv.
# Idempotent, quiet, fails loudly.
set -euo pipefail

VERSION="1.4.6"
VENV="/root/.cache/rampart-tools/aiosmtpd"

if [ -x "$VENV/bin/python" ] \
    && "$VENV/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$VERSION')"; then
    exit 0
fi
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$VERSION"
"$VENV/bin/python" -c "import aiosmtpd; print('aiosmtpd', aiosmtpd.__version__)"
