#!/usr/bin/env bash
# The 60 s load test (see bench/load.py). Not a test run by CI: it needs
# minutes and prints figures and a verdict.
set -euo pipefail
exec python3 "$(dirname "$0")/load.py" "$@"
