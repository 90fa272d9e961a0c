#!/usr/bin/env bash
# A private GCP KMS emulator (Go module github.com/blackwell-systems/gcp-kms-emulator) for the GCP driver
# tests, on 127.0.0.1 only, in memory (every start is empty).
#
# Usage: scripts/services/gcp-kms-emulator.sh start   install the emulator if needed (go install), start it,
#                                                     write the REST endpoint URL to
#                                                     target/services/gcp-kms-emulator/url
#        scripts/services/gcp-kms-emulator.sh stop    stop it (does nothing when it is not running)
#        scripts/services/gcp-kms-emulator.sh url     print the REST endpoint URL
#        scripts/services/gcp-kms-emulator.sh status  say whether it is running
#
# Environment: TRESOR_GCP_KMS_PORT (REST port, default 54190; gRPC listens on the next port),
#              TRESOR_GCP_KMS_EMULATOR_VERSION (module version, default latest),
#              TRESOR_SKIP_INSTALL=1 (never install).
#
# The emulator serves the KMS API over REST (what tresor's driver uses) and gRPC. It has no listen-address
# option, so it binds its ports on all interfaces; it holds only throw-away test keys. It is installed
# with `go install` from the Go module proxy into target/services/bin. Exit code 3 means "blocked": the
# emulator cannot be installed here (no Go, or the module proxy does not serve the module); the message
# says why.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE="$ROOT/target/services/gcp-kms-emulator"
BIN_DIR="$ROOT/target/services/bin"
BIN="$BIN_DIR/gcp-kms-emulator"
MODULE=github.com/blackwell-systems/gcp-kms-emulator
MAIN_PKG="$MODULE/cmd/server-dual"
VERSION="${TRESOR_GCP_KMS_EMULATOR_VERSION:-latest}"
PORT="${TRESOR_GCP_KMS_PORT:-54190}"

say() { printf 'gcp-kms-emulator.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
blocked() { say "blocked: $*"; printf '%s\n' "$*" >"$STATE/blocked"; exit 3; }

case "$PORT" in '' | *[!0-9]*) die "TRESOR_GCP_KMS_PORT must be a port number, not '$PORT'" ;; esac
GRPC_PORT=$((PORT + 1))
URL="http://127.0.0.1:$PORT"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

install_emulator() {
  [ -x "$BIN" ] && return 0
  [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ] && blocked "the emulator is not installed ($BIN) and TRESOR_SKIP_INSTALL=1"
  command -v go >/dev/null || blocked "no Go toolchain to install $MAIN_PKG (go install needs Go >= 1.25)"
  local t0 tmp log
  t0=$(date +%s)
  tmp=$(mktemp -d)
  log="$STATE/install.log"
  say "installing $MAIN_PKG@$VERSION with go install"
  # Only the module proxy: no direct VCS fetches, no toolchain download.
  if ! GOBIN="$tmp" GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    go install "$MAIN_PKG@$VERSION" >"$log" 2>&1; then
    rm -rf "$tmp"
    local why
    why=$(grep -m1 -E '403|404|410|not available|unknown revision|no matching versions|dial tcp|requires go' "$log" || tail -n1 "$log")
    blocked "go install $MAIN_PKG@$VERSION failed: $why (full log: $log)"
  fi
  mkdir -p "$BIN_DIR"
  mv "$tmp/server-dual" "$BIN"
  rm -rf "$tmp"
  say "installed $BIN in $(($(date +%s) - t0)) s"
}

running_pid() {
  local pid
  [ -f "$STATE/pid" ] || return 1
  pid=$(cat "$STATE/pid")
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  # Only our emulator, not whatever process reused the pid.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$BIN" || return 1
  printf '%s\n' "$pid"
}

cmd_stop() {
  local pid i
  if ! pid=$(running_pid); then
    rm -f "$STATE/pid"
    say "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/pid"
  say "stopped (pid $pid)"
}

cmd_start() {
  mkdir -p "$STATE"
  rm -f "$STATE/url" "$STATE/blocked"
  install_emulator
  cmd_stop
  port_open "$PORT" && die "something else listens on 127.0.0.1:$PORT; choose another port with TRESOR_GCP_KMS_PORT"
  port_open "$GRPC_PORT" && die "something else listens on 127.0.0.1:$GRPC_PORT (the gRPC port, TRESOR_GCP_KMS_PORT + 1)"
  local t0 log pid i
  t0=$(date +%s)
  log="$STATE/emulator.log"
  # IAM enforcement off (the default): no principal is needed, anonymous requests are served.
  IAM_MODE=off setsid "$BIN" --http-port "$PORT" --grpc-port "$GRPC_PORT" >"$log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$STATE/pid"
  for i in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      rm -f "$STATE/pid"
      die "the emulator exited during start-up (log: $log)"
    fi
    if port_open "$PORT" && curl -s -o /dev/null -m 2 "$URL/v1/projects/tresor-probe/locations/global/keyRings"; then
      break
    fi
    [ "$i" = 120 ] && { cmd_stop; die "the emulator does not answer on $URL after 30 s (log: $log)"; }
    sleep 0.25
  done
  printf '%s\n' "$URL" >"$STATE/url"
  say "ready on $URL (gRPC on 127.0.0.1:$GRPC_PORT, pid $pid) in $(($(date +%s) - t0)) s; URL in $STATE/url"
}

cmd_url() {
  [ -f "$STATE/url" ] || die "no URL: the emulator was not started (scripts/services/gcp-kms-emulator.sh start)"
  cat "$STATE/url"
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    echo "running (pid $pid, $(cat "$STATE/url" 2>/dev/null || echo "no url"))"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) mkdir -p "$STATE"; cmd_stop ;;
  url) cmd_url ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|url|status" >&2
    exit 2
    ;;
esac
