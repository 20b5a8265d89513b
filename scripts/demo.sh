#!/usr/bin/env bash
# Set up Hearth, then run the gateway on a simulated demo home (no hardware, no config needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hearth run --with-hub "$@"
