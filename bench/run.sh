#!/usr/bin/env bash
# The benchmark command (see bench/run.py for what it measures). Not a test: it prints
# figures and whether each of its targets is met.
set -euo pipefail
exec python3 "$(dirname "$0")/run.py" "$@"
