#!/usr/bin/env bash
# Runs the browser journeys and the accessibility check against a fresh `catalog serve`
# (SQLite, file mail backend) in Debian's headless Chromium, in English and then in
# Russian. Screenshots go to e2e/screenshots/ (English) and e2e/screenshots/ru/.
# Installs Chromium and the npm packages when they are missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi

(cd "$root" && cargo build --locked --quiet --bin catalog)
bin="${CARGO_TARGET_DIR:-$root/target}/debug/catalog"

# One fresh server per language: the journeys run in English, then once more in Russian
# (the browser's Accept-Language), each with the accessibility check.
run_in() {
  local lang="$1" shots="$2" lamps="$3" chairs="$4"
  local work port status=0
  work="$(mktemp -d)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  export DATABASE_URL="sqlite://$work/catalog.db?mode=rwc"
  export CATALOG_BIND="127.0.0.1:$port"
  export CATALOG_PUBLIC_URL="http://127.0.0.1:$port"
  export CATALOG_MEDIA_DIR="$work/media"
  export CATALOG_SECRET_KEY="e2e-secret-key-0123456789abcdef-0123456789"
  export EMAIL_BACKEND=file
  export EMAIL_FILE_PATH="$work/mail"
  export RUST_LOG=warn
  mkdir -p "$EMAIL_FILE_PATH"

  "$bin" categories add "$lamps" >/dev/null
  "$bin" categories add "$chairs" >/dev/null
  "$bin" serve >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
    sleep 0.1
  done

  echo "e2e: journeys in $lang"
  E2E_LANG="$lang" BASE_URL="http://127.0.0.1:$port" MAIL_DIR="$EMAIL_FILE_PATH" \
    CATALOG_BIN="$bin" SCREENSHOTS="$shots" node "$here/journeys.mjs" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "e2e: server log follows" >&2
    tail -n 50 "$work/serve.log" >&2 || true
  fi
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
  return "$status"
}

server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT
status=0
run_in en "$here/screenshots" Lamps Chairs || status=$?
run_in ru "$here/screenshots/ru" "Лампы" "Стулья" || status=$?
exit "$status"
