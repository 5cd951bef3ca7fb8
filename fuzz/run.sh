#!/usr/bin/env bash
# Runs every cargo-fuzz target (libFuzzer, AddressSanitizer) for a fixed time and fails
# if any of them finds a crash, a panic, a leak or a timeout.
#
#   bash fuzz/run.sh              # 60 s per target
#   FUZZ_SECONDS=600 bash fuzz/run.sh signed_token money
#
# Needs the nightly toolchain (rustup) and cargo-fuzz (installed here if missing).
# Findings are written to fuzz/artifacts/<target>/; the corpus grows in fuzz/corpus/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(signed_token money email phone product_form image)
fi

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup run nightly rustc --version >/dev/null

# Seeds: one well-formed input per target, so the fuzzer starts from the valid shapes.
seed() { mkdir -p "fuzz/corpus/$1"; [ -e "fuzz/corpus/$1/seed-$2" ] || printf '%b' "$3" >"fuzz/corpus/$1/seed-$2"; }
seed money 1 '199.99'
seed money 2 '0.10'
seed email 1 'Ann.Lee+shop@Example.COM'
seed phone 1 'RU+7 912 345-67-89'
seed phone 2 'GB020 7946 0958'
seed signed_token 1 'eyJ1IjoxLCJ0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJl'
seed product_form 1 '--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\nLamp\r\n--XyZ\r\nContent-Disposition: form-data; name="price"\r\n\r\n10.00\r\n--XyZ\r\nContent-Disposition: form-data; name="versions-0-number"\r\n\r\n1.0\r\n--XyZ\r\nContent-Disposition: form-data; name="versions-current"\r\n\r\n0\r\n--XyZ--\r\n'
mkdir -p fuzz/corpus/image
cp -n e2e/fixtures/picture.png fuzz/corpus/image/seed-picture.png

failed=()
for target in "${targets[@]}"; do
  printf '\n==> fuzzing %s for %s s\n' "$target" "$seconds"
  log="$(mktemp)"
  if cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 2>&1 | tee "$log" | grep -E '^(#[0-9]+\s+DONE|==[0-9]+==|thread .* panicked|SUMMARY)'; then :; fi
  status=${PIPESTATUS[0]}
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -n 1 || true)
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    tail -n 40 "$log"
  fi
  printf '%s: %s, exit %s\n' "$target" "${runs:-no summary}" "$status"
  rm -f "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds} s each, nothing found"
