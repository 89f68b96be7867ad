# Sourced by the set-up, demo and test scripts: the workspace's pinned Node 24 (node_modules/.bin/node) and the
# tools npm linked beside it come first on PATH, so every script, test and command-line tool runs on it.
root=${root:?node-path.sh needs \$root}
export PATH="$root/node_modules/.bin:$PATH"
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
  echo "node-path: $(command -v node) is $(node --version); the workspace's Node 24 is missing (run scripts/setup.sh)" >&2
  exit 1
fi
