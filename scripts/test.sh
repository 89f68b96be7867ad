#!/usr/bin/env bash
# The whole test suite: set-up, lint, type-check, then every package's unit, property, differential and
# end-to-end tests against the real components.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$SECONDS
bash scripts/setup.sh
source scripts/node-path.sh
npx biome check .
npx tsc -p tsconfig.json
node scripts/run-tests.mjs "$@"
echo "test: finished in $((SECONDS - start))s"
