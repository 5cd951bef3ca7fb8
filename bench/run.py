#!/usr/bin/env python3
"""The catalog benchmark: builds the release binary, serves a fresh database filled with
demo data, drives each scenario with wrk at 64 connections after a warm-up, and prints
one table with every figure also as a ratio to GET /healthz measured in the same run.

    bench/run.sh                 # SQLite
    bench/run.sh --postgres      # PostgreSQL (BENCH_DATABASE_URL, default the local server,
                                 # reached without TLS; BENCH_PG_OPTIONS="" to use sqlx's default)
    bench/run.sh --quick         # shorter runs, for a smoke test

It needs `wrk` (Debian's package; installed with apt when missing).
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_PASSWORD = "demo-catalog-password"
CONNECTIONS = 64


def sh(*args, env=None, input=None):
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env, input=input).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def parse_wrk(out):
    """req/s, p50 ms, p99 ms, non-2xx count from `wrk --latency` output."""
    def ms(value):
        m = re.match(r"([\d.]+)(us|ms|s)", value)
        n, unit = float(m.group(1)), m.group(2)
        return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = int(bad.group(1)) if bad else 0
    if errors:
        non2xx += sum(int(g) for g in errors.groups())
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": non2xx}


def wrk(url, seconds, headers=(), script=None, connections=CONNECTIONS, threads=2):
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for h in headers:
        args += ["-H", h]
    if script:
        args += ["-s", script]
    args.append(url)
    return parse_wrk(sh(*args))


def light_probe(url, seconds):
    latencies, failures = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            urllib.request.urlopen(url, timeout=10).read()
        except OSError:
            failures += 1
        latencies.append((time.monotonic() - started) * 1000)
        time.sleep(0.005)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    return {"rps": len(latencies) / seconds, "p50": pick(0.5), "p99": pick(0.99), "non2xx": failures}


class Server:
    def __init__(self, binary, env):
        self.binary, self.env = binary, env
        self.proc = None

    def start(self):
        started = time.monotonic()
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://{self.env['CATALOG_BIND']}/healthz"
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).read()
                return (time.monotonic() - started) * 1000
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit("catalog serve exited at start")
                time.sleep(0.005)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def sign_in(base, email):
    """A session cookie from the real login form (CSRF and all)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/users/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrf_token": csrf, "email": email, "password": DEMO_PASSWORD}).encode()
    opener.open(f"{base}/users/login", data=data).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return f"Cookie: {cookie}"


def demo_emails(database_url):
    """The addresses of the demo users, read from the database itself."""
    query = "SELECT email FROM users WHERE email LIKE '%@demo.example.com' ORDER BY id"
    if database_url.startswith("sqlite:"):
        import sqlite3
        path = urllib.parse.urlparse(database_url).path
        with sqlite3.connect(path) as db:
            return [row[0] for row in db.execute(query)]
    return sh("psql", database_url, "-Atc", query).split()


def api_token(base, email):
    body = json.dumps({"email": email, "password": DEMO_PASSWORD}).encode()
    req = urllib.request.Request(f"{base}/api/v1/auth/token", data=body,
                                 headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())["token"]


# The words demo descriptions are made of (crates/domain/src/services/demo.rs, FEATURES):
# each is in about one product of sixteen, so a search for one matches over 5 % of them.
COMMON_WORDS = """amber azure beige black bronze brown coral cream crimson golden green grey indigo
ivory khaki lilac maroon mint navy olive orange pink plum purple red rose ruby silver teal violet
white yellow bamboo birch canvas carbon ceramic copper cork cotton denim felt glass granite hemp
leather linen marble nylon oak paper pine porcelain rattan rubber satin silk slate steel stone
suede teak tin velvet walnut wicker wool zinc durable elegant foldable gentle glossy heavy light
matte modern padded polished retro rustic sleek slim soft sturdy tiny huge washable waterproof
warm cool bright classic simple striped dotted quilted woven carved painted""".split()


def search_script(path, words):
    """A wrk script whose every request searches for one of `words`, drawn at random."""
    with open(path, "w") as f:
        f.write("local words = {" + ", ".join(json.dumps(w) for w in words) + "}\n"
                "math.randomseed(7)\n"
                "request = function()\n"
                "  return wrk.format(\"GET\", \"/products?q=\" .. words[math.random(#words)])\n"
                "end\n")
    return path


def photo_png(width=1632, height=1224):
    """A 2-megapixel photograph-like PNG (gradients with fine texture), made with the
    standard library alone."""
    import zlib
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        rows.extend(bytes(((x * 255 // width) ^ (y * 7 % 13), (y * 255 // height) ^ (x * 5 % 11),
                           (x + y) * 255 // (width + height) ^ ((x // 3 * y // 3) % 7))[c]
                          for x in range(width) for c in range(3)))
    def chunk(kind, data):
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b""))


def page_weight(base, cookie, token, category):
    """Bytes a browser loads for /products page 1 when its 20 products have 2-megapixel
    photos: the HTML, the stylesheets and the images it shows (at 1×)."""
    photo = photo_png()
    auth = {"Authorization": f"Bearer {token}"}
    for i in range(20):
        body = json.dumps({"name": f"Photographed lamp {i}", "category_id": category,
                           "price": "10.00", "is_published": True}).encode()
        req = urllib.request.Request(f"{base}/api/v1/products", data=body,
                                     headers={**auth, "content-type": "application/json"})
        product = json.loads(urllib.request.urlopen(req).read())
        req = urllib.request.Request(f"{base}/api/v1/products/{product['id']}/image", data=photo,
                                     method="PUT", headers={**auth, "content-type": "image/png"})
        urllib.request.urlopen(req).read()
    name, value = cookie.split(": ", 1)
    get = lambda path: urllib.request.urlopen(urllib.request.Request(base + path, headers={name: value})).read()
    html = get("/products").decode()
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) + re.findall(r'<img src="([^"]+)"', html)
    sizes = {path: len(get(path)) for path in set(assets)}
    images = sum(1 for path in assets if path.startswith("/media/"))
    return len(html.encode()) + sum(sizes.values()), images, len(photo)


def ensure_wrk():
    """Installs Debian's wrk when missing (refreshing the package lists if need be)."""
    if shutil.which("wrk"):
        return
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000, help="size of the large catalog")
    args = parser.parse_args()
    seconds = 3 if args.quick else 10
    warmup = 1 if args.quick else 3

    ensure_wrk()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--bin", "catalog"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "release", "catalog")

    work = tempfile.mkdtemp(prefix="catalog-bench-")
    port = free_port()
    env = dict(os.environ)
    if args.postgres:
        admin = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        name = f"catalog_bench_{os.getpid()}"
        sh("psql", admin, "-qc", f"CREATE DATABASE {name}")
        # The server and PostgreSQL share this machine: TLS on loopback (sqlx's default
        # is to prefer it) would only measure the handshake, 45 ms per connection here.
        env["DATABASE_URL"] = (admin.rsplit("/", 1)[0] + "/" + name
                               + os.environ.get("BENCH_PG_OPTIONS", "?sslmode=disable"))
        backend = "PostgreSQL"
    else:
        env["DATABASE_URL"] = f"sqlite://{work}/catalog.db?mode=rwc"
        backend = "SQLite"
    env.update({
        "CATALOG_BIND": f"127.0.0.1:{port}",
        "CATALOG_MEDIA_DIR": f"{work}/media",
        "CATALOG_SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789",
        "EMAIL_BACKEND": "file",
        "EMAIL_FILE_PATH": f"{work}/mail",
        "RUST_LOG": "warn",
        "CATALOG_TRUSTED_PROXIES": "127.0.0.1/32",
    })
    base = f"http://127.0.0.1:{port}"
    rows, notes = [], []

    # The floor is measured again just before each scenario and the scenario's ratio is
    # to that run: this machine's speed drifts by a fifth within minutes, so one /healthz
    # run at the start made the ratios of later scenarios swing with the drift.
    floors = []

    def floor_now():
        result = wrk(base + "/healthz", seconds)
        floors.append(result)
        return result["rps"]

    def run(name, path, headers=(), **kw):
        url = base + path
        floor_rps = floor_now()
        wrk(url, warmup, headers, **kw)
        result = wrk(url, seconds, headers, **kw)
        result["name"] = name
        result["floor"] = floor_rps
        rows.append(result)
        print(f"  {name}: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms"
              f" (/healthz just before: {floor_rps:.0f} req/s)", file=sys.stderr)
        return result

    server = Server(binary, env)
    try:
        sh(binary, "migrate", env=env)
        out = sh(binary, "demo-data", "--users", "50", "--products", str(args.products), env=env)
        email = re.search(r"for example: (\S+)", out).group(1)
        start_ms = server.start()
        cookie = sign_in(base, email)
        token = api_token(base, email)
        bearer = f"Authorization: Bearer {token}"
        first = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/v1/products?per_page=1", headers={"Authorization": f"Bearer {token}"})).read())
        product_id = first["items"][0]["id"]
        # Page 400, or the last but one of a smaller catalog (what the user may see).
        deep = max(1, min(400, (first["total"] + 19) // 20 - 1))

        print(f"benchmark on {backend}: {seconds}s per scenario at {CONNECTIONS} connections", file=sys.stderr)
        wrk(base + "/healthz", warmup)
        page1 = run(f"GET /products (page 1, {args.products} products)", "/products", [cookie])
        detail = run("GET /products/{id}", f"/products/{product_id}", [cookie])
        api = run("GET /api/v1/products?per_page=20", "/api/v1/products?per_page=20", [bearer])
        deep_row = run(f"GET /products?page={deep}", f"/products?page={deep}", [cookie])
        rss_small = rss_mib(server.proc.pid)
        weight, weight_images, photo_bytes = page_weight(base, cookie, token, first["items"][0]["category"]["id"])

        server.stop()
        out = sh(binary, "demo-data", "--users", "0", "--products", str(args.big - args.products), env=env)
        server.start()
        visible = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/v1/products?per_page=20", headers={"Authorization": f"Bearer {token}"})).read())["total"]
        big_pages = (visible + 19) // 20
        big1 = run(f"GET /products (page 1, {args.big} products)", "/products", [cookie])
        big_end = run(f"GET /products?page={big_pages - 1} (near the end)", f"/products?page={big_pages - 1}", [cookie])
        rss_all = rss_mib(server.proc.pid)
        # Finding products in the large catalog.
        category = first["items"][0]["category"]["id"]
        in_category = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/v1/products?category={category}&per_page=1", headers={"Authorization": f"Bearer {token}"})).read())["total"]
        cat_page = max(1, min(400, (in_category + 19) // 20 - 1))
        cat1 = run(f"GET /products?category={category} (page 1)", f"/products?category={category}", [cookie])
        cat_deep = run(f"GET /products?category={category}&page={cat_page}", f"/products?category={category}&page={cat_page}", [cookie])
        price1 = run("GET /products?sort=price (page 1)", "/products?sort=price", [cookie])
        # Rare words: the numbers in the names of the large run's products, each in one
        # product; common words: each in about one description of sixteen. Both drawn
        # from hundreds, so that kept answers (searches are not kept anyway) cannot serve them.
        rare = [str(n) for n in range(args.products + 1000, args.big - args.products, max(1, (args.big - 2 * args.products) // 300))][:300]
        rare_run = run(f"GET /products?q=<one of {len(rare)} rare words>", "/products",
                       [cookie], script=search_script(os.path.join(work, "rare.lua"), rare))
        common_run = run(f"GET /products?q=<one of {len(COMMON_WORDS)} common words>", "/products",
                         [cookie], script=search_script(os.path.join(work, "common.lua"), COMMON_WORDS))
        common_share = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/v1/products?q={COMMON_WORDS[0]}&per_page=1", headers={"Authorization": f"Bearer {token}"})).read())["total"]
        rss_found = rss_mib(server.proc.pid)

        # Sign-in flood: the argon2-bound endpoint, with /healthz probed by a second client.
        # Many users from many addresses (behind the trusted local proxy): a sign-in
        # counts against its email's and address's limits while it runs, so one user
        # signing in 64 times at once would rightly be turned away.
        lua = os.path.join(work, "token.lua")
        emails = demo_emails(env["DATABASE_URL"])
        with open(lua, "w") as f:
            f.write("local emails = {" + ", ".join(json.dumps(e) for e in emails) + "}\n"
                    "local i = 0\n"
                    "request = function()\n"
                    "  i = i + 1\n"
                    "  local body = '{\"email\": \"' .. emails[(i % #emails) + 1] .. "
                    f"'\", \"password\": \"{DEMO_PASSWORD}\"}}'\n"
                    "  local ip = \"10.\" .. (i % 250) .. \".\" .. (math.floor(i / 250) % 250) .. \".7\"\n"
                    "  return wrk.format(\"POST\", \"/api/v1/auth/token\", "
                    "{[\"Content-Type\"] = \"application/json\", [\"X-Forwarded-For\"] = ip}, body)\n"
                    "end\n")
        one = wrk(base + "/api/v1/auth/token", seconds, script=lua, connections=1, threads=1)
        hash_ms = one["p50"]
        # The probe is one client asking every 5 ms, so that it measures the reactor
        # rather than competing with the flood for the two cores.
        probe = {}
        t = threading.Thread(target=lambda: probe.update(light_probe(base + "/healthz", seconds)))
        t.start()
        flood = wrk(base + "/api/v1/auth/token", seconds, script=lua)
        t.join()
        flood["floor"] = probe["floor"] = floors[-1]["rps"]
        flood["name"] = "POST /api/v1/auth/token (sign-in flood)"
        rows.append(flood)
        probe["name"] = "GET /healthz during the flood (one client, every 5 ms)"
        rows.append(probe)
        server.stop()
        restart_ms = server.start()
    finally:
        server.stop()
        if args.postgres:
            subprocess.run(["psql", os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                            "-qc", f"DROP DATABASE IF EXISTS catalog_bench_{os.getpid()}"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    cores = os.cpu_count() or 1
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print(f"\ncatalog benchmark — {backend}, {cores} cores ({cpu}), {CONNECTIONS} connections, {seconds}s per scenario\n")
    # The floor's row: the median of its runs (one before each scenario).
    by_rps = sorted(floors, key=lambda r: r["rps"])
    floor = dict(by_rps[len(by_rps) // 2], name=f"GET /healthz (median of {len(floors)} runs)")
    floor["floor"] = floor["rps"]
    rows.insert(0, floor)
    print(f"| scenario | req/s | × healthz | p50 ms | p99 ms | non-2xx |")
    print(f"|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['rps']:.0f} | {r['rps'] / r['floor']:.3f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} |")
    print(f"\n/healthz ran before each scenario: {by_rps[0]['rps']:.0f} to {by_rps[-1]['rps']:.0f} req/s; "
          "each ratio is to the run just before its scenario")
    print(f"\nserver RSS: {rss_small:.1f} MiB after the {args.products}-product scenarios, "
          f"{rss_all:.1f} MiB after the {args.big}-product ones, {rss_found:.1f} MiB after the filters and searches"
          + (" (SQLite's page cache of each connection holds more of the index then)" if backend == "SQLite" else ""))
    print(f"start to first /healthz on an up-to-date database: {restart_ms:.0f} ms")
    print(f"/products page 1 with 20 products whose originals are 2-megapixel photos ({photo_bytes / 1024:.0f} KB each): "
          f"{weight / 1024:.0f} KB in all (HTML, stylesheet and {weight_images} images)")
    print(f"a common word ({COMMON_WORDS[0]!r}) is found in {common_share} visible products (searches rank at most 1000)")
    print(f"one argon2 sign-in alone: {hash_ms:.1f} ms → ideal flood {cores / hash_ms * 1000:.1f} req/s\n")

    def target(label, ok):
        print(f"[{'met' if ok else 'NOT MET'}] {label}")
        return ok
    results = [
        target("GET /products page 1 ≥ 20% of /healthz, p99 ≤ 10 ms", page1["rps"] >= 0.2 * page1["floor"] and page1["p99"] <= 10),
        target("GET /api/v1/products ≥ 20% of /healthz, p99 ≤ 10 ms", api["rps"] >= 0.2 * api["floor"] and api["p99"] <= 10),
        target("GET /products/{id} ≥ 30% of /healthz", detail["rps"] >= 0.3 * detail["floor"]),
        target("deep page p50 ≤ 2× page 1", deep_row["p50"] <= 2 * page1["p50"]),
        target(f"{args.big} products, page 1 p50 ≤ 2× page 1 of {args.products}", big1["p50"] <= 2 * page1["p50"]),
        target(f"{args.big} products, near-last page p50 ≤ 2× page 1 of {args.products}", big_end["p50"] <= 2 * page1["p50"]),
        target("category filter page 1 p50 ≤ 2× page 1 of the large catalog", cat1["p50"] <= 2 * big1["p50"]),
        target("sort=price page 1 p50 ≤ 2× page 1 of the large catalog", price1["p50"] <= 2 * big1["p50"]),
        target("rare-word search p50 ≤ 2× page 1 of the large catalog", rare_run["p50"] <= 2 * big1["p50"]),
        target("common-word search p50 ≤ 100 ms", common_run["p50"] <= 100),
        target("deep page of the category filter p50 ≤ 2× its page 1", cat_deep["p50"] <= 2 * cat1["p50"]),
        target("/products page 1 with 20 photographed products ≤ 300 KB", weight <= 300 * 1024),
        target("sign-in flood ≥ 80% of cores ÷ hash time", flood["rps"] >= 0.8 * cores / hash_ms * 1000),
        target("/healthz p99 during the flood ≤ 20 ms", probe["p99"] <= 20),
        target("zero non-2xx responses", all(r["non2xx"] == 0 for r in rows + floors)),
        target("server RSS ≤ 64 MiB after the SQLite scenarios" if backend == "SQLite" else "server RSS ≤ 64 MiB (PostgreSQL)", rss_all <= 64),
        target("/healthz within 300 ms of start", restart_ms <= 300),
    ]
    print(f"\n{sum(results)} of {len(results)} targets met")


if __name__ == "__main__":
    main()
