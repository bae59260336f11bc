#!/usr/bin/env bash
# The one test command (README, CI): set up, then typecheck, lint, the TypeScript tests and the worker tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== typecheck"; npm run --silent typecheck
echo "== lint"; npm run --silent lint
echo "== vitest"; npx vitest run
echo "== pytest"; /usr/bin/python3 -m pytest -q worker/tests
