#!/usr/bin/env bash
# The multi-node test: nginx (Debian's package) round-robin in front of two `catalog
# serve` processes that share one PostgreSQL database and one S3 bucket (moto, a real
# S3-API server). The browser journeys of e2e/ run through nginx; then the script checks
# that both nodes served requests, that an image written through one node is read
# through the other, and that the nodes believe X-Forwarded-For only from nginx.
#
#   bash cluster/run.sh            # needs PostgreSQL (CLUSTER_DATABASE_URL, default the local server)
#
# Installs nginx (apt), moto (pip, into ~/.cache/catalog-moto) and the e2e packages when
# missing. .ci/run runs it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
admin_url="${CLUSTER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

say() { printf 'cluster: %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # URL
  for _ in $(seq 1 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  say "nothing answers at $1"; return 1
}

if ! command -v nginx >/dev/null; then
  say "installing nginx"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q nginx-light >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nginx-light >/dev/null; }
fi
moto_venv="${XDG_CACHE_HOME:-$HOME/.cache}/catalog-moto"
if ! cmp -s "$here/requirements.txt" "$moto_venv/requirements.txt" 2>/dev/null; then
  say "installing moto"
  python3 -m venv "$moto_venv"
  "$moto_venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$moto_venv/requirements.txt"
fi
if [ ! -d "$root/e2e/node_modules/playwright-core" ]; then
  (cd "$root/e2e" && npm ci --no-audit --no-fund >/dev/null)
fi
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
if [ -n "${CATALOG_BIN:-}" ]; then
  bin="$CATALOG_BIN"
else
  (cd "$root" && cargo build --locked --quiet --bin catalog)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/catalog"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/catalog-cluster.XXXXXX")"
chmod 755 "$work"
dbname="catalog_cluster_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the shared parts: PostgreSQL database, S3 bucket, mail directory ------------------
psql "$admin_url" -qc "CREATE DATABASE $dbname"
export DATABASE_URL="${admin_url%/*}/$dbname"
moto_port="$(free_port)"
"$moto_venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$moto_port/"
curl -fsS -X PUT "http://127.0.0.1:$moto_port/catalog-media" >/dev/null

proxy_port="$(free_port)"
export CATALOG_PUBLIC_URL="http://127.0.0.1:$proxy_port"
export CATALOG_SECRET_KEY="cluster-secret-key-0123456789abcdef-0123456789"
export CATALOG_MEDIA_BACKEND=s3 CATALOG_S3_BUCKET=catalog-media CATALOG_S3_REGION=us-east-1
export CATALOG_S3_ENDPOINT="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID=cluster AWS_SECRET_ACCESS_KEY=cluster-secret
export EMAIL_BACKEND=file EMAIL_FILE_PATH="$work/mail"
# nginx reaches the nodes from 127.0.0.2 (proxy_bind) and clients reach nginx from
# 127.0.0.1: only nginx's address is trusted to say who the client is.
export CATALOG_TRUSTED_PROXIES=127.0.0.2
export CATALOG_AUTO_MIGRATE=false CATALOG_LOG_FORMAT=json RUST_LOG=info
mkdir -p "$EMAIL_FILE_PATH"

# Migrations are a release step, run once before the nodes start.
"$bin" migrate >/dev/null
"$bin" categories add Lamps >/dev/null
"$bin" categories add Chairs >/dev/null
demo="$("$bin" demo-data --users 1 --products 0)"
demo_email="$(sed -n 's/^for example: //p' <<<"$demo")"

ports=()
for node in a b; do
  port="$(free_port)"
  ports+=("$port")
  CATALOG_BIND="127.0.0.1:$port" CATALOG_MEDIA_DIR="$work/media-$node" \
    "$bin" serve >"$work/node-$node.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/healthz"
done

# --- nginx ----------------------------------------------------------------------------
mkdir -p "$work/nginx/logs"
{
  [ "$(id -u)" = 0 ] && echo "user root;"
  cat <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log $work/nginx/logs/access.log;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  upstream catalog {
    server 127.0.0.1:${ports[0]};
    server 127.0.0.1:${ports[1]};
  }
  server {
    listen 127.0.0.1:$proxy_port;
    client_max_body_size 6m;
    location / {
      proxy_pass http://catalog;
      proxy_bind 127.0.0.2;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGINX
} >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
base="http://127.0.0.1:$proxy_port"
wait_for "$base/healthz"
say "nginx at $base in front of nodes :${ports[0]} and :${ports[1]}, PostgreSQL $dbname, S3 :$moto_port"

# --- the user journeys, through nginx ---------------------------------------------------
status=0
BASE_URL="$base" MAIL_DIR="$EMAIL_FILE_PATH" CATALOG_BIN="$bin" \
  SCREENSHOTS="$work/screenshots" node "$root/e2e/journeys.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  say "the journeys failed through nginx"
  tail -n 20 "$work/node-a.log" "$work/node-b.log" >&2 || true
  exit "$status"
fi

# --- an image written through one node, read through the other --------------------------
token="$(curl -fsS -X POST "http://127.0.0.1:${ports[0]}/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$demo_email\", \"password\": \"demo-catalog-password\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
avatar_url="$(curl -fsS -X PUT "http://127.0.0.1:${ports[0]}/api/v1/users/me/avatar" -H "Authorization: Bearer $token" \
  -H 'Content-Type: image/png' --data-binary "@$root/e2e/fixtures/picture.png" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["avatar_url"])')"
media_path="/${avatar_url#*://*/}"
read_back="$(curl -fsS -o "$work/read-back.png" -w '%{http_code} %{content_type}' "http://127.0.0.1:${ports[1]}$media_path")"
[ "$read_back" = "200 image/png" ] || { say "node B cannot read $media_path written by node A: $read_back"; exit 1; }
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(8); sys.exit(0 if d == b"\x89PNG\r\n\x1a\n" else 1)' "$work/read-back.png"
say "media: $media_path written through node A (:${ports[0]}), read through node B (:${ports[1]}): $read_back"

# --- X-Forwarded-For: believed from nginx only -----------------------------------------
# Failed sign-ins through nginx from 127.0.0.1, each claiming another client address:
# the nodes trust nginx (127.0.0.2) and so key the per-address limit on the address
# nginx saw, the right-most untrusted one. The forged claims are worthless and the
# limit (10 a minute per node) soon applies.
wrong_sign_in() { # SOURCE-ADDRESS N [EXTRA CURL ARGS]
  local from="$1" n="$2"; shift 2
  curl -s -o /dev/null -w '%{http_code}' --interface "$from" "$@" -X POST "$base/api/v1/auth/token" \
    -H 'Content-Type: application/json' \
    -d "{\"email\": \"nobody$n@example.com\", \"password\": \"wrong password $n\"}"
}
limited_at=""
for i in $(seq 1 40); do
  code="$(wrong_sign_in 127.0.0.1 "$i" -H "X-Forwarded-For: 198.51.100.$i")"
  if [ "$code" = 429 ]; then limited_at=$i; break; fi
  [ "$code" = 401 ] || { say "unexpected $code for a wrong password"; exit 1; }
done
[ -n "$limited_at" ] || { say "forged X-Forwarded-For headers escaped the rate limit"; exit 1; }
say "forged X-Forwarded-For ignored: 127.0.0.1 was limited at attempt $limited_at (10 per node, 2 nodes)"
# The other half: what nginx says *is* believed. Another client (127.0.0.3) behind the
# same nginx still has its own allowance; had the nodes not trusted nginx, every client
# would share nginx's address and this one would be limited too.
for i in 1 2; do
  code="$(wrong_sign_in 127.0.0.3 "other$i")"
  [ "$code" = 401 ] || { say "a second client behind nginx got $code: the nodes did not believe nginx"; exit 1; }
done
say "X-Forwarded-For from nginx believed: another client (127.0.0.3) behind it still gets 401, not 429"

# --- both nodes served ------------------------------------------------------------------
count() { grep -c '"message":"finished processing request"' "$1" || true; }
served_a="$(count "$work/node-a.log")"
served_b="$(count "$work/node-b.log")"
errors="$(cat "$work/node-a.log" "$work/node-b.log" | grep -c '"level":"ERROR"' || true)"
say "requests served: node A $served_a, node B $served_b; ERROR lines: $errors"
if [ "$served_a" -eq 0 ] || [ "$served_b" -eq 0 ]; then
  say "one node served nothing: nginx did not balance"
  exit 1
fi
if [ "$errors" -ne 0 ]; then
  grep -h '"level":"ERROR"' "$work/node-a.log" "$work/node-b.log" | head -n 5 >&2
  exit 1
fi
say "passed"
