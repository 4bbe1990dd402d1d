# Sourced (not run) by scripts/setup.sh and .ci/run: puts a supported Node.js (22 or 24) first on PATH and
# points node-gyp at that Node's own headers, so nothing is downloaded from outside the npm registry.
#
# - If `node` on PATH is already 22 or 24, it is used as it is.
# - Otherwise Node $SMALL_WEBRTC_NODE_VERSION (default below) is installed from the npm registry (package
#   node-linux-<arch>: the official build, headers included) into .node/ in this checkout, and .node/bin is
#   put first on PATH. Later shells: export PATH="$PWD/.node/bin:$PATH".
# - npm_config_nodedir, unless already set, becomes that Node's prefix when it ships include/node (Debian's
#   nodejs: /usr; the registry build: its package folder). node-gyp then builds offline.
_sw_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_sw_node_version="${SMALL_WEBRTC_NODE_VERSION:-22.23.5}"

_sw_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

case "$(_sw_node_major)" in
  22 | 24) ;;
  *)
    if [ "$(PATH="$_sw_root/.node/bin:$PATH" node -p process.versions.node 2>/dev/null)" != "$_sw_node_version" ]; then
      case "$(uname -m)" in
        x86_64) _sw_arch=x64 ;;
        aarch64) _sw_arch=arm64 ;;
        *) echo "node-env.sh: no Node.js $_sw_node_version package for $(uname -m); install Node 22 or 24" >&2; return 1 ;;
      esac
      echo "node-env.sh: Node $(node --version 2>/dev/null || echo '(none)') is not 22 or 24; installing node-linux-$_sw_arch@$_sw_node_version from the npm registry into .node/" >&2
      if ! command -v npm >/dev/null 2>&1; then
        echo "node-env.sh: npm is needed to fetch Node $_sw_node_version (Debian: apt-get install nodejs npm)" >&2
        return 1
      fi
      # npm derives its global npmrc from --prefix: name the system one, which may hold the machine's CA file,
      # proxy or registry settings.
      _sw_globalconfig="$(npm config get globalconfig 2>/dev/null || true)"
      rm -rf "$_sw_root/.node"
      mkdir -p "$_sw_root/.node"
      echo '{ "private": true }' > "$_sw_root/.node/package.json"
      npm install --prefix "$_sw_root/.node" ${_sw_globalconfig:+--globalconfig "$_sw_globalconfig"} --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
        "node-linux-$_sw_arch@$_sw_node_version" || return 1
      ln -sfn "node_modules/node-linux-$_sw_arch/bin" "$_sw_root/.node/bin"
      # npm reads its global npmrc from <node prefix>/etc/npmrc: link the system npm's there, so npm run by
      # this Node keeps the machine's settings in every later shell too.
      if [ -n "$_sw_globalconfig" ] && [ -f "$_sw_globalconfig" ]; then
        mkdir -p "$_sw_root/.node/node_modules/node-linux-$_sw_arch/etc"
        ln -sfn "$_sw_globalconfig" "$_sw_root/.node/node_modules/node-linux-$_sw_arch/etc/npmrc"
      fi
    fi
    export PATH="$_sw_root/.node/bin:$PATH"
    ;;
esac

if [ -z "${npm_config_nodedir:-}" ]; then
  _sw_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [ -f "$_sw_prefix/include/node/common.gypi" ]; then
    export npm_config_nodedir="$_sw_prefix"
  fi
fi
echo "node-env.sh: Node $(node --version) ($(command -v node)), npm $(npm --version), nodedir ${npm_config_nodedir:-(node-gyp default)}" >&2
unset _sw_root _sw_node_version _sw_arch _sw_prefix _sw_globalconfig
unset -f _sw_node_major
