#!/usr/bin/env bash
# Installs what the tests need beside the Rust toolchain: Python's wechatpy (the WeCom crypto round
# trips), and Debian's chromium, chromium-driver and a Chinese font (the console's browser tests).
# Safe to run again: only what is missing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/fixtures/requirements.txt

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fc-list 2>/dev/null | grep -qiE "wqy|noto sans cjk|source han" || need+=(fonts-wqy-microhei)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing ${need[*]} (apt-get)"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}"
fi
chromedriver --version
