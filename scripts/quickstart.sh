#!/usr/bin/env bash
# The main job on a fresh machine: set up (Debian packages, npm dependencies, build), then run the whole
# fine-tuning lifecycle on the bundled sample data and demo model. Extra arguments go to `tunekit quickstart`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec ./bin/tunekit.js quickstart "$@"
