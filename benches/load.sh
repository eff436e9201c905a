#!/usr/bin/env bash
# Load test of `lawbot serve` on loopback: signed DingTalk and encrypted WeCom callbacks, half each.
# Prints the generator's requests per second and latency percentiles, and the server's peak memory.
# Usage: bash benches/load.sh [SECONDS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
concurrency=${2:-32}
cargo build --release --quiet --bin lawbot --example loadgen
dir=$(mktemp -d)
cat > "$dir/config.toml" <<TOML
[server]
listen = "127.0.0.1:18080"
rate_limit_per_minute = 1000000
[wecom]
token = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
encoding_aes_key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
[dingtalk]
app_secret = "test-app-secret"
TOML
RUST_LOG=warn ./target/release/lawbot serve --config "$dir/config.toml" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -fs http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
ticks=$(getconf CLK_TCK)
cpu_before=$(awk '{print $14 + $15}' /proc/$server/stat)
result=$(./target/release/examples/loadgen http://127.0.0.1:18080 "$seconds" "$concurrency")
cpu_after=$(awk '{print $14 + $15}' /proc/$server/stat)
echo "$result"
requests=$(printf '%s' "$result" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
awk -v t="$ticks" -v b="$cpu_before" -v a="$cpu_after" -v n="$requests" \
  'BEGIN { printf "server CPU: %.1f s for %d requests = %.0f us per request (%.0f requests per CPU-second)\n", (a-b)/t, n, (a-b)/t*1e6/n, n/((a-b)/t) }'
echo "server peak memory: $(grep VmHWM /proc/$server/status | awk '{print $2, $3}')"
