#!/usr/bin/env bash
# The README's set-up command: from a fresh clone to a built checkout (and, with --demo, the running echo demo).
#   bash scripts/setup.sh [--demo]
# 1. Debian packages the build and the tests need (scripts/install-system-deps.sh: apt-get as root, sudo only
#    when something is missing and this is not root).
# 2. A supported Node.js (22 or 24): the system's if it is one, else Node 22 from the npm registry into .node/
#    (scripts/node-env.sh). Everything npm fetches comes from the npm registry; .npmrc keeps onnxruntime-node's
#    install script from downloading CUDA libraries from elsewhere.
# 3. npm install, npm run build; with --demo, npm run demo (PORT, default 7860).
set -euo pipefail
cd "$(dirname "$0")/.."
demo=false
for arg in "$@"; do
  case "$arg" in
    --demo) demo=true ;;
    *) echo "usage: bash scripts/setup.sh [--demo]" >&2; exit 2 ;;
  esac
done

bash scripts/install-system-deps.sh
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
npm install --no-audit --no-fund
npm run build
if [ "$demo" = true ]; then
  exec npm run demo
fi
if [ -d .node/bin ]; then
  echo "setup: done. In a new shell, first: export PATH=\"$PWD/.node/bin:\$PATH\"" >&2
fi
