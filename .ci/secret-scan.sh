#!/usr/bin/env bash
# Scans every tracked file for secrets with detect-secrets and fails on any finding that
# is not in the audited baseline (.secrets.baseline). Installs a pinned detect-secrets
# into a private venv first (idempotent). Run from anywhere: `bash .ci/secret-scan.sh`.
#
# A deliberate test constant that trips the scan gets a `pragma: allowlist secret`
# comment on its line, or an audited entry in the baseline
# (`detect-secrets audit .secrets.baseline`); nothing else silences it.
set -euo pipefail

VERSION="1.5.0"
VENV="/root/.cache/rampart-tools/detect-secrets"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! "$VENV/bin/detect-secrets" --version 2>/dev/null | grep -qx "$VERSION"; then
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "detect-secrets==$VERSION"
fi

# The files git tracks, plus new ones not ignored: what a commit would carry.
mapfile -d '' files < <(git ls-files -z --cached --others --exclude-standard)
if [ "${#files[@]}" -eq 0 ]; then
    echo "secret-scan.sh: no files to scan" >&2
    exit 1
fi

# detect-secrets-hook exits non-zero and lists each finding that the baseline does not
# already record as audited; Cargo.lock holds checksums, not secrets.
"$VENV/bin/detect-secrets-hook" --baseline .secrets.baseline \
    --exclude-files '(^|/)Cargo\.lock$' "${files[@]}"
echo "secret-scan.sh: no new secret found in ${#files[@]} files"
