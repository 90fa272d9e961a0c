#!/usr/bin/env bash
# moto server (PyPI `moto[server]`): the AWS KMS API on 127.0.0.1, the second AWS test service DESIGN.md
# names. Installed into a private venv under target/services/moto.
#   scripts/services/moto.sh start   # install if missing, start, wait until it answers
#   scripts/services/moto.sh stop    # stop (idempotent)
#   scripts/services/moto.sh url     # print the endpoint URL
# Port: TRESOR_MOTO_PORT (default 54181).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR="$ROOT/target/services/moto"
PORT="${TRESOR_MOTO_PORT:-54181}"
VENV="$DIR/venv"
mkdir -p "$DIR"

stop() {
  if [ -f "$DIR/pid" ]; then
    pid=$(cat "$DIR/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/pid"
  fi
}

case "${1:-}" in
  start)
    stop
    if [ ! -x "$VENV/bin/moto_server" ]; then
      if [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ]; then echo "moto is not installed (install skipped)" >&2; exit 1; fi
      python3 -m venv "$VENV"
      "$VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]>=5,<6' >"$DIR/install.log" 2>&1 || {
        echo "moto install failed; see $DIR/install.log" >&2; exit 1; }
    fi
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$DIR/server.log" 2>&1 &
    echo $! >"$DIR/pid"
    for _ in $(seq 1 100); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/moto-api/" 2>/dev/null; then
        echo "http://127.0.0.1:$PORT" >"$DIR/url"
        echo "moto server on http://127.0.0.1:$PORT"
        exit 0
      fi
      kill -0 "$(cat "$DIR/pid")" 2>/dev/null || { echo "moto server exited; see $DIR/server.log" >&2; exit 1; }
      sleep 0.2
    done
    echo "moto server did not answer on port $PORT; see $DIR/server.log" >&2
    stop
    exit 1
    ;;
  stop) stop ;;
  url) cat "$DIR/url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
