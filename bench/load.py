#!/usr/bin/env python3
"""The load test: 60 s of mixed traffic at 256 connections against a release
`catalog serve` on a fresh demo database, then a verdict.

    bench/load.sh                # SQLite, 60 s
    bench/load.sh --postgres     # PostgreSQL (BENCH_DATABASE_URL, default the local server)
    bench/load.sh --seconds 20   # shorter

Traffic, all at once: 128 connections browse the HTML list and detail pages signed in;
64 create and edit products (JSON API and the multipart HTML form, with CSRF) and read
them back; 32 read the API; 32 sign in (POST /api/v1/auth/token, argon2). Passes when
there is no 5xx and no unexpected status, no ERROR line in the server's log, and the
server's RSS at the end is at most 1.2 x its RSS after the first 10 s.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the benchmark's helpers: server, sign-in, wrk parsing)

# Counts 5xx, 4xx and any other status the traffic does not expect (`expected`, a Lua
# set the script defines: 303 is expected only after a form post).
COUNTING = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) s5 = 0; s4 = 0; other = 0 end
function response(status, headers, body)
  if status >= 500 then s5 = s5 + 1
  elseif status >= 400 then s4 = s4 + 1
  elseif not expected[status] then other = other + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("s5"); b = b + t:get("s4"); c = c + t:get("other") end
  io.write(string.format("STATUS 5xx=%d 4xx=%d other=%d\\n", a, b, c))
end
"""


def lua_list(values):
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def script(path, body, expected=(200,)):
    with open(path, "w") as f:
        f.write(COUNTING + "expected = {" + ", ".join(f"[{c}] = true" for c in expected) + "}\n" + body)
    return path


def multipart(csrf, fields, boundary="loadtestboundary"):
    parts = [("csrf_token", csrf)] + fields
    out = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in parts)
    return out + f"--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}"


def api(base, token, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()

    bench.ensure_wrk()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--bin", "catalog"], cwd=bench.ROOT, check=True)
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(bench.ROOT, "target")), "release", "catalog")

    work = tempfile.mkdtemp(prefix="catalog-load-")
    port = bench.free_port()
    env = dict(os.environ)
    admin = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    dbname = f"catalog_load_{os.getpid()}"
    if args.postgres:
        bench.sh("psql", admin, "-qc", f"CREATE DATABASE {dbname}")
        env["DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + dbname
    else:
        env["DATABASE_URL"] = f"sqlite://{work}/catalog.db?mode=rwc"
    env.update({
        "CATALOG_BIND": f"127.0.0.1:{port}",
        "CATALOG_MEDIA_DIR": f"{work}/media",
        "CATALOG_SECRET_KEY": "load-secret-key-0123456789abcdef-0123456789",
        "EMAIL_BACKEND": "file",
        "EMAIL_FILE_PATH": f"{work}/mail",
        "RUST_LOG": "warn",
        "CATALOG_LOG_FORMAT": "json",
        "CATALOG_TRUSTED_PROXIES": "127.0.0.1/32",
    })
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(work, "serve.log")
    proc = None
    try:
        bench.sh(binary, "migrate", env=env)
        out = bench.sh(binary, "demo-data", "--users", "50", "--products", "10000", env=env)
        email = re.search(r"for example: (\S+)", out).group(1)
        emails = bench.demo_emails(env["DATABASE_URL"])
        log = open(log_path, "w")
        proc = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    sys.exit("catalog serve exited at start")
                time.sleep(0.01)

        cookie = bench.sign_in(base, email)
        token = bench.api_token(base, email)
        listing = api(base, token, "GET", "/api/v1/products?per_page=100")
        visible = [p["id"] for p in listing["items"]]
        category = listing["items"][0]["category"]["id"]
        own = [api(base, token, "POST", "/api/v1/products",
                   {"name": f"Load {i}", "price": "9.99", "category_id": category, "is_published": True})["id"]
               for i in range(20)]
        req = urllib.request.Request(base + "/products/new", headers={"Cookie": cookie.split(": ", 1)[1]})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', urllib.request.urlopen(req).read().decode()).group(1)
        pages = (listing["total"] + 19) // 20

        browse = script(os.path.join(work, "browse.lua"), f"""
local ids = {lua_list(visible)}
local headers = {{["Cookie"] = {json.dumps(cookie.split(": ", 1)[1])}}}
local i = 0
request = function()
  i = i + 1
  if i % 2 == 0 then return wrk.format("GET", "/products/" .. ids[(i % #ids) + 1], headers) end
  return wrk.format("GET", "/products?page=" .. ((i * 7) % {pages} + 1), headers)
end
""")
        create_body, create_type = multipart(csrf, [("name", "Form lamp"), ("description", "made under load"),
                                                    ("category", str(category)), ("price", "12.50"),
                                                    ("is_published", "false"), ("is_published", "true")])
        edit_body, _ = multipart(csrf, [("name", "Form lamp"), ("description", "edited under load"),
                                        ("category", str(category)), ("price", "12.75"), ("is_published", "false")])
        writes = script(os.path.join(work, "writes.lua"), f"""
local own = {lua_list(own)}
local cookie = {json.dumps(cookie.split(": ", 1)[1])}
local bearer = "Bearer {token}"
local ctype = {json.dumps(create_type)}
local create_form = {json.dumps(create_body)}
local edit_form = {json.dumps(edit_body)}
local i = 0
request = function()
  i = i + 1
  local id = own[(i % #own) + 1]
  local k = i % 5
  if k == 0 then
    return wrk.format("POST", "/api/v1/products", {{["Authorization"] = bearer, ["Content-Type"] = "application/json"}},
      '{{"name": "Api lamp", "price": "3.10", "category_id": {category}}}')
  elseif k == 1 then
    return wrk.format("PATCH", "/api/v1/products/" .. id, {{["Authorization"] = bearer, ["Content-Type"] = "application/json"}},
      '{{"description": "patched ' .. i .. '", "price": "4.20"}}')
  elseif k == 2 then
    return wrk.format("POST", "/products/new", {{["Cookie"] = cookie, ["Content-Type"] = ctype}}, create_form)
  elseif k == 3 then
    return wrk.format("POST", "/products/" .. id .. "/edit", {{["Cookie"] = cookie, ["Content-Type"] = ctype}}, edit_form)
  end
  return wrk.format("GET", "/api/v1/products/" .. id, {{["Authorization"] = bearer}})
end
""", expected=(200, 201, 303))
        reads = script(os.path.join(work, "reads.lua"), f"""
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/products?per_page=20&page=" .. ((i % 50) + 1), {{["Authorization"] = "Bearer {token}"}})
end
""")
        # Many users signing in from many addresses (behind the trusted local proxy):
        # the per-email and per-address limits see what they would in production.
        signin = script(os.path.join(work, "signin.lua"), f"""
local emails = {lua_list(emails)}
local i = 0
request = function()
  i = i + 1
  local body = '{{"email": "' .. emails[(i % #emails) + 1] .. '", "password": "{bench.DEMO_PASSWORD}"}}'
  local ip = "10." .. (i % 250) .. "." .. (math.floor(i / 250) % 250) .. ".7"
  return wrk.format("POST", "/api/v1/auth/token",
    {{["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}}, body)
end
""", expected=(201,))

        jobs = [("browse (HTML list and detail)", browse, 128), ("create and edit (API and HTML form)", writes, 64),
                ("read the API", reads, 32), ("sign in (argon2)", signin, 32)]
        results = {}

        def drive(name, lua, connections):
            out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{args.seconds}s", "--latency",
                                  "--timeout", "10s", "-s", lua, base + "/"],
                                 capture_output=True, text=True).stdout
            results[name] = (out, connections)

        threads = [threading.Thread(target=drive, args=job) for job in jobs]
        started = time.monotonic()
        for t in threads:
            t.start()
        samples = []
        while any(t.is_alive() for t in threads):
            samples.append((time.monotonic() - started, bench.rss_mib(proc.pid)))
            time.sleep(1)
        for t in threads:
            t.join()
        rss_10 = next((r for s, r in samples if s >= 10), samples[-1][1])
        rss_end = bench.rss_mib(proc.pid)
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        if args.postgres:
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {dbname}"], capture_output=True)

    with open(log_path) as f:
        lines = f.readlines()
    errors = [l for l in lines if '"level":"ERROR"' in l]
    warnings = [l for l in lines if '"level":"WARN"' in l]
    bench.shutil.rmtree(work, ignore_errors=True)

    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\ncatalog load test — {backend}, {os.cpu_count()} cores, 256 connections, {args.seconds} s\n")
    print("| traffic | connections | requests | req/s | p50 ms | p99 ms | 5xx | 4xx | other 3xx | socket errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    total_5xx = total_bad = 0
    for name, (out, connections) in results.items():
        figures = bench.parse_wrk(out)
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        s5, s4, other = (int(x) for x in re.search(r"STATUS 5xx=(\d+) 4xx=(\d+) other=(\d+)", out).groups())
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        sock_n = sum(int(g) for g in sock.groups()) if sock else 0
        total_5xx += s5
        total_bad += s4 + other + sock_n
        print(f"| {name} | {connections} | {requests} | {figures['rps']:.0f} | {figures['p50']:.1f} | "
              f"{figures['p99']:.1f} | {s5} | {s4} | {other} | {sock_n} |")
    print(f"\nRSS: {rss_10:.1f} MiB after 10 s, {rss_end:.1f} MiB at the end "
          f"({rss_end / rss_10:.2f}x); log: {len(errors)} ERROR, {len(warnings)} WARN lines")
    verdicts = [
        ("zero 5xx", total_5xx == 0),
        ("no unexpected status or socket error", total_bad == 0),
        ("no ERROR in the log", not errors),
        ("RSS at the end <= 1.2 x RSS after 10 s", rss_end <= 1.2 * rss_10),
    ]
    for label, ok in verdicts:
        print(f"- {label}: {'met' if ok else 'NOT MET'}")
    for line in errors[:5]:
        print("  " + line.strip()[:300])
    sys.exit(0 if all(ok for _, ok in verdicts) else 1)


if __name__ == "__main__":
    main()
