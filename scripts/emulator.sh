#!/usr/bin/env bash
# The local AWS emulator (moto in server mode on 127.0.0.1), installed into the project's .venv.
#
#   scripts/emulator.sh install         create .venv and install the Python tools of the lock
#                                       scripts/requirements.txt (hash-checked)
#   scripts/emulator.sh start [PORT]    install if needed, start moto on PORT (default 4566), wait until ready
#   scripts/emulator.sh stop [PORT]     stop the emulator this script started on PORT
#   scripts/emulator.sh reset [PORT]    wipe everything the emulator holds
#
# Nothing persists across a restart. A server already answering on PORT is reused.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/requirements.txt"
run_dir="$root/.emulator"

install() {
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "emulator: installing the pinned Python tools into $venv (about a minute)" >&2
  python3 -m venv "$venv"
  # Every package, transitive ones too, must match a hash of the lock (made from
  # scripts/requirements.in), so what installs is exactly what was reviewed.
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
    -r "$requirements"
  echo "$want" >"$stamp"
}

ready() {
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1/moto-api/"
}

start() {
  local port="${1:-4566}"
  install
  if ready "$port"; then
    echo "emulator: already running on http://127.0.0.1:$port" >&2
    return 0
  fi
  mkdir -p "$run_dir"
  # moto_server plus the API Gateway v2 calls moto lacks (see scripts/emulator_server.py).
  MOTO_IAM_LOAD_MANAGED_POLICIES=true nohup "$venv/bin/python" "$root/scripts/emulator_server.py" \
    -H 127.0.0.1 -p "$port" \
    >"$run_dir/moto-$port.log" 2>&1 &
  echo $! >"$run_dir/moto-$port.pid"
  for _ in $(seq 1 150); do
    if ready "$port"; then
      echo "emulator: ready on http://127.0.0.1:$port" >&2
      return 0
    fi
    if ! kill -0 "$(cat "$run_dir/moto-$port.pid")" 2>/dev/null; then
      echo "emulator: moto exited; its log follows" >&2
      cat "$run_dir/moto-$port.log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "emulator: not ready after 30 s; see $run_dir/moto-$port.log" >&2
  return 1
}

stop() {
  local port="${1:-4566}" pid_file="$run_dir/moto-${1:-4566}.pid"
  if [[ -f "$pid_file" ]]; then
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
    echo "emulator: stopped on port $port" >&2
  fi
}

reset() {
  curl -sf -X POST "http://127.0.0.1:${1:-4566}/moto-api/reset" >/dev/null
}

cmd="${1:-}"
shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  reset) reset "$@" ;;
  *)
    sed -n '2,9p' "$0" >&2
    exit 2
    ;;
esac
