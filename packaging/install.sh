#!/usr/bin/env bash
# Installs meterhub from a checkout, in place: dependencies, build, then the
# development dependencies removed. The Dockerfile's build stage runs it, a CI
# test runs it on a clean copy of the checkout, and it is the install step of a
# bare-metal install (docs/install.md).
#
#   bash packaging/install.sh            # in the checkout
#   node packages/meterhub/bin/meterhub.js start     # then run it (or the systemd unit)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '== %s\n' "$*"; }

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("meterhub needs Node.js 20.19 or newer, not "+process.versions.node); process.exit(1); }'

step "installing dependencies"
npm ci --no-audit --no-fund ${METERHUB_NPM_PREFER_OFFLINE:+--prefer-offline}
step "building"
npm run build
step "removing development dependencies"
npm prune --omit=dev --no-audit --no-fund ${METERHUB_NPM_PREFER_OFFLINE:+--prefer-offline}
step "checking the installed host"
node packages/meterhub/bin/meterhub.js drivers >/dev/null
printf 'installed: run `node %s/packages/meterhub/bin/meterhub.js start`\n' "$(pwd)"
