#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (playwright-core drives it; no browser download).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || true)"; exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then echo "cannot install chromium here (needs root and apt-get)"; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
