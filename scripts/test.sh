#!/usr/bin/env bash
# The one test command (README, CI): set up, then typecheck, lint, the TypeScript tests and the worker tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# A throwaway PostgreSQL on loopback for the gateway's PostgreSQL log tests; stopped however the run ends.
export TUNEKIT_TEST_POSTGRES_URL="$(bash scripts/start-postgres.sh)"
trap 'bash scripts/start-postgres.sh --stop >/dev/null 2>&1 || true' EXIT
echo "== typecheck"; npm run --silent typecheck
echo "== lint"; npm run --silent lint
echo "== vitest"; npx vitest run
echo "== pytest"; /usr/bin/python3 -m pytest -q worker/tests
