#!/usr/bin/env bash
# The bpf tests compile two small C helpers at test time (a libpcap oracle and a kernel packet-socket
# check): they need a C compiler and the C library headers. tcpdump, libpcap-dev and iproute2 come from the
# root scripts/setup.sh. Idempotent: installs only what is missing.
set -euo pipefail
missing=()
for pkg in gcc libc6-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bpf setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
