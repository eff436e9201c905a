#!/usr/bin/env bash
# Time to serve each console page to a logged-in clerk, with a busy database: 100,000 logged
# questions over 12 weeks and 200 groups. Prints seconds per request (6 each) and the server's RSS.
# Usage: bash benches/console.sh [QUESTIONS] [GROUPS]
set -euo pipefail
cd "$(dirname "$0")/.."
questions=${1:-100000}
groups=${2:-200}
cargo build --release --quiet --bin lawbot
bin="$PWD/target/release/lawbot"
dir=$(mktemp -d)
token="bench-token-0123456789abcdef"
cat > "$dir/config.toml" <<TOML
[server]
listen = "127.0.0.1:18181"
[admin]
token = "$token"
[storage]
path = "$dir/lawbot.db"
TOML
"$bin" group list --config "$dir/config.toml" >/dev/null   # creates the schema
python3 - "$dir/lawbot.db" "$questions" "$groups" <<'PY'
import random, sqlite3, sys, time
db, questions, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(db)
now = int(time.time() * 1000)
ids = ["12.18", "12.23", "12.5", "10", "8", "12.1", "12.28", "11", "9", "12.3"]
rows = []
for i in range(questions):
    at = now - random.randint(0, 84 * 24 * 3600 * 1000)
    if i % 20 == 0:
        rows.append((at, "wecom", "chat", "not_covered", "", None, f"问题{i}"))
    else:
        rows.append((at, "wecom", "chat", "clauses", random.choice(ids), 3.0, None))
c.executemany("INSERT INTO questions (at, platform, conversation, intent, clauses, score, question)"
              " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
for i in range(groups):
    c.execute("INSERT INTO groups (name, platform, webhook_key, created_at) VALUES (?, 'wecom', ?, ?)",
              (f"律所{i:03d}", f"key-{i:040d}", now))
c.commit()
PY
"$bin" serve --config "$dir/config.toml" 2>"$dir/log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
jar="$dir/cookies"
csrf=$(curl -s -c "$jar" http://127.0.0.1:18181/console/login | grep -o 'name="csrf" value="[^"]*"' | sed 's/.*value="//;s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "token=$token" \
  http://127.0.0.1:18181/console/login
for page in /console /console/groups /console/reminders /console/regulation /console/broadcast /console/try; do
  printf '%-22s' "$page"
  for _ in 1 2 3 4 5 6; do
    curl -s -b "$jar" -o /dev/null -w '%{time_total} ' "http://127.0.0.1:18181$page"
  done
  echo
done
echo "serve RSS: $(ps -o rss= -p $server) KB"
