#!/usr/bin/env bash
# OpenAPI-driven fuzzing of the JSON API (SPEC §5, §6, §10) with schemathesis: it reads
# GET /api/openapi.json from a fresh `catalog serve` (SQLite, file mail backend) and sends
# generated valid and invalid requests to every operation, checking that the server never
# answers 5xx and that status codes, content types and bodies match what the document
# declares. Exits non-zero when any check fails.
#
#   fuzz/api/run.sh                          # 50 test cases per operation (CI)
#   API_FUZZ_EXAMPLES=200 fuzz/api/run.sh    # a longer run
#
# Settings (environment):
#   API_FUZZ_EXAMPLES    test cases per operation (default 50)
#   API_FUZZ_MAX_TIME    optional time budget in seconds for the whole run
#   API_FUZZ_SEED        optional seed, to replay a run
#   API_FUZZ_WORKERS     concurrent schemathesis workers (default 1; with 2, schemathesis 4.32
#                        cut some operations' fuzzing short, and CI machines have few cores)
#   API_FUZZ_REPORT_DIR  keep JUnit/NDJSON reports there (default: discarded with the temp dir)
#   CATALOG_BIN          the binary to test; when unset it is built with cargo (debug)
# schemathesis is installed from requirements.txt into a venv under
# ${XDG_CACHE_HOME:-$HOME/.cache}/catalog-api-fuzz the first time (needs PyPI).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

examples="${API_FUZZ_EXAMPLES:-50}"
workers="${API_FUZZ_WORKERS:-1}"

# --- schemathesis, in its own venv so that it never touches the system Python ------------
venv="${XDG_CACHE_HOME:-$HOME/.cache}/catalog-api-fuzz"
wanted="$(sed -n 's/^schemathesis==//p' "$here/requirements.txt")"
installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
if [ "$installed" != "$wanted" ]; then
  echo "api-fuzz: installing schemathesis $wanted into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
st="$venv/bin/schemathesis"

# --- the binary: an explicit one is tested as given (CI builds it once for every job) ----
if [ -n "${CATALOG_BIN:-}" ]; then
  bin="$CATALOG_BIN"
else
  (cd "$root" && cargo build --locked --quiet --bin catalog)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/catalog"
fi
[ -x "$bin" ] || { echo "api-fuzz: no executable at $bin" >&2; exit 2; }

# --- a fresh server on a free port, torn down whatever happens -------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/catalog-api-fuzz.XXXXXX")"
server=""
fuzzer=""
# shellcheck disable=SC2317  # called by the trap, which older shellcheck does not see
cleanup() {
  for pid in $fuzzer $server; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export DATABASE_URL="sqlite://$work/catalog.db?mode=rwc"
export CATALOG_BIND="127.0.0.1:$port"
export CATALOG_PUBLIC_URL="$base"
export CATALOG_MEDIA_DIR="$work/media"
export CATALOG_SECRET_KEY="api-fuzz-secret-key-0123456789abcdef-0123456789"
export EMAIL_BACKEND=file
export EMAIL_FILE_PATH="$work/mail"
# Request logs at info: on a failure the log tail shows the request and the error cause.
export RUST_LOG="${RUST_LOG:-info,sea_orm_migration=warn}"
mkdir -p "$EMAIL_FILE_PATH" "$CATALOG_MEDIA_DIR"

# Two categories of our own, then one active, verified, ordinary (not super) user:
# `demo-data` is the only command that makes a verified non-superuser without going
# through the mailed link. It also adds its sample categories; no products.
cat_line="$("$bin" categories add Lamps --description "Things that give light")"
"$bin" categories add Chairs >/dev/null
category_id="$(sed -n 's/.*(id \([0-9]*\)).*/\1/p' <<<"$cat_line")"
demo="$("$bin" demo-data --users 1 --products 0)"
email="$(sed -n 's/^for example: //p' <<<"$demo")"
password="demo-catalog-password" # DEMO_PASSWORD in crates/domain/src/services/demo.rs
if [ -z "$email" ] || [ -z "$category_id" ]; then
  echo "api-fuzz: set-up failed: $cat_line / $demo" >&2
  exit 2
fi

"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  kill -0 "$server" 2>/dev/null || { echo "api-fuzz: catalog serve exited" >&2; cat "$work/serve.log" >&2; exit 2; }
  sleep 0.1
done
if ! curl -fsS "$base/api/openapi.json" >"$work/openapi.json"; then
  echo "api-fuzz: the server does not serve /api/openapi.json" >&2
  tail -n 30 "$work/serve.log" >&2
  exit 2
fi

json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
token_for() {
  curl -fsS -X POST "$base/api/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$email\", \"password\": \"$password\"}" | json_field token
}
token="$(token_for)"
# A separate token for DELETE /api/v1/auth/token: it revokes the token it is sent with,
# which would turn every later request of the main run into a 401.
revoke_token="$(token_for)"

# Objects of this user so that path parameters can name real ones: a product with a
# version that every operation may use, and a second product and version that only the
# DELETE operations get, so that deleting them early does not turn the rest into 404s.
api_post() { # PATH JSON -> the id of the created object
  curl -fsS -X POST "$base$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$2" | json_field id
}
product_json() { printf '{"name": "%s", "description": "Seed", "category_id": %s, "price": "19.99", "is_published": true}' "$1" "$category_id"; }
product_id="$(api_post /api/v1/products "$(product_json "Fuzz lamp")")"
doomed_product_id="$(api_post /api/v1/products "$(product_json "Fuzz lamp to delete")")"
version_id="$(api_post "/api/v1/products/$product_id/versions" '{"number": "1.0.0", "name": "First", "is_current": true}')"
doomed_version_id="$(api_post "/api/v1/products/$product_id/versions" '{"number": "0.9.0", "name": "Old", "is_current": false}')"

# Half of the generated ids are the real ones above (the rest stay random, to fuzz the
# path parsing); schemathesis also reuses ids it sees in responses (e.g. after POST).
# Operation-level parameters win over the global ones.
cat >"$work/schemathesis.toml" <<EOF
[dictionaries.product_ids]
values = [$product_id]
[dictionaries.version_ids]
values = [$version_id]
[dictionaries.doomed_product_ids]
values = [$doomed_product_id]
[dictionaries.doomed_version_ids]
values = [$doomed_version_id]
[dictionaries.category_ids]
values = [$category_id]

[parameters]
"path.id" = { dictionary = "product_ids", probability = 0.5 }
"path.vid" = { dictionary = "version_ids", probability = 0.5 }
"body.category_id" = { dictionary = "category_ids", probability = 0.5 }

[[operations]]
include-name = "DELETE /api/v1/products/{id}"
parameters = { "path.id" = { dictionary = "doomed_product_ids", probability = 0.5 } }

[[operations]]
include-name = "DELETE /api/v1/products/{id}/versions/{vid}"
parameters = { "path.vid" = { dictionary = "doomed_version_ids", probability = 0.5 } }
EOF

checks="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
reports="${API_FUZZ_REPORT_DIR:-$work/reports}"
mkdir -p "$reports"
reports="$(cd "$reports" && pwd)" # absolute: schemathesis runs from the temp dir
# --continue-on-failure: report every distinct failure of an operation, not only the first.
# Health checks off: they judge the schema's generators (e.g. "filter too much"), and on
# a slow CI machine "too slow" would fail a run in which the server did nothing wrong.
common=(--checks "$checks" --max-examples "$examples" --workers "$workers"
  --continue-on-failure --no-color --suppress-health-check all)
if [ -n "${API_FUZZ_MAX_TIME:-}" ]; then common+=(--max-time "$API_FUZZ_MAX_TIME"); fi
if [ -n "${API_FUZZ_SEED:-}" ]; then common+=(--seed "$API_FUZZ_SEED"); fi

# schemathesis writes its example database and cache into the working directory: the
# temp dir, so that the repository stays clean and every run starts from nothing.
cd "$work"
# Run in the background and wait: bash runs a trap only once the foreground command has
# finished, so a TERM from a CI timeout would otherwise wait for the whole fuzz run.
fuzz() { # NAME TOKEN ARGS...
  local name="$1" bearer="$2"
  shift 2
  "$st" --config-file "$work/schemathesis.toml" run "$base/api/openapi.json" \
    --header "Authorization: Bearer $bearer" "${common[@]}" \
    --report junit,ndjson --report-junit-path "$reports/$name.junit.xml" \
    --report-ndjson-path "$reports/$name.ndjson" "$@" &
  fuzzer=$!
  local rc=0
  wait "$fuzzer" || rc=$?
  fuzzer=""
  return "$rc"
}

status=0
echo "api-fuzz: $base, user $email, products $product_id/$doomed_product_id, versions $version_id/$doomed_version_id, $examples examples per operation" >&2
fuzz main "$token" --exclude-name "DELETE /api/v1/auth/token" || status=$?
fuzz revoke "$revoke_token" --include-name "DELETE /api/v1/auth/token" || status=$?

# One summary over both runs, from schemathesis' NDJSON event streams.
python3 - "$reports/main.ndjson" "$reports/revoke.ndjson" <<'EOF' || true
import json, sys
operations, cases, failing, distinct = set(), 0, 0, set()
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        continue
    for line in lines:
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        recorder = event["recorder"]
        if event["phase"] != "stateful":  # stateful scenarios span several operations
            operations.add(recorder["label"])
        cases += len(recorder.get("cases", {}))
        for checks in recorder.get("checks", {}).values():
            failures = [c["failure_info"]["failure"] for c in checks if c["status"] == "failure"]
            failing += bool(failures)
            distinct.update((f["operation"], f["title"], f["message"]) for f in failures)
print(f"api-fuzz summary: {len(operations)} operations, {cases} test cases, "
      f"{failing} failing test cases, {len(distinct)} distinct failures")
EOF

if [ "$status" -ne 0 ]; then
  # The log holds one line per request; errors (the cause of a 5xx) are picked out first.
  echo "api-fuzz: FAILED (exit $status); server warnings and errors:" >&2
  grep -E ' (WARN|ERROR) |panicked' "$work/serve.log" | tail -n 40 >&2 || echo "  (none)" >&2
  echo "api-fuzz: server log tail:" >&2
  tail -n 30 "$work/serve.log" >&2 || true
else
  echo "api-fuzz: passed" >&2
fi
exit "$status"
