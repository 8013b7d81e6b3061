#!/usr/bin/env bash
# Installs Debian's Chromium for the client SDK's browser end-to-end test
# (client-sdk/test/browser.e2e.test.ts, driven by playwright-core with
# executablePath /usr/bin/chromium). Without it that test is skipped.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or sudo).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version || true
