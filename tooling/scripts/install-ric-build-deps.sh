#!/usr/bin/env bash
# Installs what aws-lambda-ric's install script needs to build its native addon from the sources it
# bundles: curl is built with autoreconf + configure (autoconf, automake, libtool), aws-lambda-cpp with
# cmake, the addon with node-gyp (make, g++, python3). Without them the optional dependency's build
# fails, pnpm skips it, and the local Lambda runtime falls back to Switchyard's own runner.
set -euo pipefail
missing=()
for tool in autoreconf:autoconf automake:automake libtoolize:libtool cmake:cmake make:make g++:g++; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -eq 0 ]; then echo "aws-lambda-ric build tools present"; exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "cannot install ${missing[*]} here (needs root and apt-get)"
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed ${missing[*]} for aws-lambda-ric's native build"
