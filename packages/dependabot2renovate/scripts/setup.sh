#!/usr/bin/env bash
# Installs the real Renovate (44.x) and the Node 24 it needs into an isolated prefix, renovate-runtime/.
# It is not a workspace member: the `node` package would put a Node 24 binary on the workspace's
# node_modules/.bin and shadow the system Node 20 in every npm script. npm ci runs only when the lock changed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runtime="$here/renovate-runtime"
stamp=$(sha256sum "$runtime/package-lock.json" | cut -c1-16)
if [ "$(cat "$runtime/node_modules/.d2r-lock" 2>/dev/null)" != "$stamp" ] || [ ! -x "$runtime/node_modules/node/bin/node" ]; then
  echo "dependabot2renovate setup: installing node@24 + renovate@44 into $runtime"
  (cd "$runtime" && npm ci --no-audit --no-fund --loglevel=error --workspaces=false)
  echo "$stamp" >"$runtime/node_modules/.d2r-lock"
fi
"$runtime/node_modules/node/bin/node" --version >/dev/null
test -f "$runtime/node_modules/renovate/dist/config-validator.js"
