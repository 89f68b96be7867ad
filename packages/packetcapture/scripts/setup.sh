#!/usr/bin/env bash
# Set-up for @harbormaster/packetcapture, idempotent and quick when everything is there: the Debian tools the
# tests and the bench drive (ping, socat, netsniff-ng's trafgen), then the Node-API addon built with cc.
set -euo pipefail
package=$(cd "$(dirname "$0")/.." && pwd)

debian_packages=(iputils-ping socat netsniff-ng tcpdump tshark iproute2 gcc libc6-dev)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "packetcapture setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The addon: rebuilt only when its source changed (build/ keeps the source hash beside the binary).
node "$package/scripts/build-native.mjs"
