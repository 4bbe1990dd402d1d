#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with, when they are missing (needs root).
# Used by .ci/run and by the README's setup command.
set -euo pipefail
pkgs=(
  build-essential pkg-config cmake python3 clang-format
  clang libclang-rt-14-dev                           # libFuzzer targets + sanitizers in the cmake build
  libopus-dev libspeexdsp-dev libvpx-dev libyuv-dev  # codecs the addon links (statically in prebuilds)
  python3-aiortc                                     # interop tests: aiortc as a Pipecat-style client
  chromium                                           # interop tests: headless Chromium with the Pipecat JS client
  espeak-ng sox                                      # test speech generated on the fly
  coturn                                             # TURN/STUN connectivity tests (loopback turnserver)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages: ${missing[*]} (run this script as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
