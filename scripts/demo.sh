#!/usr/bin/env bash
# The main job: installs what is missing, then demonstrates every product on embedded defaults and ends with
# a short summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source scripts/node-path.sh
node --import tsx scripts/demo.ts "$@"
