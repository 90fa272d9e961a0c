#!/usr/bin/env bash
# A private local-kms server (an AWS KMS API emulator, Go module github.com/nsmithuk/local-kms) for the AWS
# KMS driver tests, with a throw-away data directory.
#
# Usage: scripts/services/local-kms.sh start   install local-kms if needed, (re)start it with an empty data
#                                              directory, write its URL to target/services/local-kms/url
#        scripts/services/local-kms.sh stop    stop it (does nothing when it is not running)
#        scripts/services/local-kms.sh url     print the URL
#        scripts/services/local-kms.sh status  say whether it is running
#
# Environment: TRESOR_LOCAL_KMS_PORT (default 54180), TRESOR_LOCAL_KMS_VERSION (module version),
#              TRESOR_SKIP_INSTALL=1 (never install).
#
# Installation is `go install` with GOBIN=target/services/bin, through the Go module proxy. When it cannot
# be installed, `start` exits with status 3 and prints the reason on the last line as "blocked: <reason>",
# so callers can tell "not available here" from "broken".
#
# Binding: local-kms has no bind-address setting (its server listens on ":$PORT", i.e. 0.0.0.0, and only
# PORT, KMS_DATA_PATH, KMS_REGION, KMS_ACCOUNT_ID and KMS_SEED_PATH are read from the environment). The
# clients are pointed at 127.0.0.1 only, but the port is reachable from other hosts while it runs: use a
# firewalled machine or a network namespace if that matters. It holds only throw-away test keys.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE="$ROOT/target/services/local-kms"
BIN_DIR="$ROOT/target/services/bin"
BIN="$BIN_DIR/local-kms"
PORT="${TRESOR_LOCAL_KMS_PORT:-54180}"
REGION=us-east-1
ACCOUNT=111122223333
# The version the Go module proxy serves here (a pseudo-version: the module has no tagged release newer
# than its move to Go modules). TRESOR_LOCAL_KMS_VERSION picks another one; a binary installed from another
# version is replaced.
VERSION="${TRESOR_LOCAL_KMS_VERSION:-v0.0.0-20260228092603-2a5e92d09ab6}"
MODULES=("github.com/nsmithuk/local-kms@$VERSION")

say() { printf 'local-kms.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
blocked() { echo "blocked: $*"; exit 3; }

case "$PORT" in '' | *[!0-9]*) die "TRESOR_LOCAL_KMS_PORT must be a port number, not '$PORT'" ;; esac

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

install_bin() {
  [ -x "$BIN" ] && [ "$(cat "$BIN_DIR/local-kms.version" 2>/dev/null)" = "$VERSION" ] && return 0
  [ -x "$BIN" ] && [ ! -f "$BIN_DIR/local-kms.version" ] && [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ] && return 0
  [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ] && blocked "local-kms is not installed and TRESOR_SKIP_INSTALL=1"
  command -v go >/dev/null || blocked "local-kms is not installed and there is no Go toolchain to install it"
  mkdir -p "$BIN_DIR" "$STATE"
  local m t0 errs=""
  t0=$(date +%s)
  for m in "${MODULES[@]}"; do
    say "go install $m"
    if GOBIN="$BIN_DIR" go install "$m" >"$STATE/install.log" 2>&1; then
      # `go install` names the binary after the last path element: local-kms in both layouts.
      [ -x "$BIN" ] || die "go install $m succeeded but $BIN is missing"
      printf '%s\n' "$VERSION" >"$BIN_DIR/local-kms.version"
      say "installed $VERSION in $(($(date +%s) - t0)) s"
      return 0
    fi
    errs="$errs $(tr '\n' ' ' <"$STATE/install.log")"
  done
  blocked "go install of local-kms failed:$errs"
}

read_pid() { [ -f "$STATE/pid" ] && cat "$STATE/pid" || true; }

# Whether $1 is a local-kms process started by this script.
ours() {
  local pid="$1"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$BIN"
}

# The pid of the local-kms process running this script's binary (its path is private to this checkout),
# if any. `setsid` runs the server in the started process, or in a child of it when that process leads a
# process group; this finds it either way.
find_pid() {
  local d
  for d in /proc/[0-9]*; do
    [ "$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" = "$BIN " ] && { echo "${d#/proc/}"; return 0; }
  done
  return 1
}

cmd_stop() {
  local pid i
  pid=$(read_pid)
  if ! ours "$pid"; then
    rm -f "$STATE/pid"
    say "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    ours "$pid" || break
    sleep 0.1
  done
  if ours "$pid"; then
    say "did not stop on SIGTERM; killing $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/pid"
  say "stopped"
}

cmd_start() {
  local t0
  t0=$(date +%s)
  install_bin
  mkdir -p "$STATE"
  cmd_stop
  port_open "$PORT" && die "something else listens on port $PORT; choose another with TRESOR_LOCAL_KMS_PORT"
  rm -rf "$STATE/data" "$STATE/url"
  mkdir -p "$STATE/data"
  chmod 700 "$STATE/data"
  PORT="$PORT" KMS_DATA_PATH="$STATE/data" KMS_REGION="$REGION" KMS_ACCOUNT_ID="$ACCOUNT" \
    setsid "$BIN" >"$STATE/server.log" 2>&1 </dev/null &
  echo $! >"$STATE/pid"
  local i pid
  for i in $(seq 1 100); do
    if port_open "$PORT"; then break; fi
    if ! ours "$(read_pid)"; then
      pid=$(find_pid) || { tail -n 20 "$STATE/server.log" >&2 || true; die "local-kms exited (log: $STATE/server.log)"; }
      echo "$pid" >"$STATE/pid"
    fi
    [ "$i" = 100 ] && die "local-kms does not answer on port $PORT after 20 s (log: $STATE/server.log)"
    sleep 0.2
  done
  if ! ours "$(read_pid)"; then
    pid=$(find_pid) || die "local-kms answers on port $PORT but its process is not found"
    echo "$pid" >"$STATE/pid"
  fi
  # It answers on TCP; check that it speaks the KMS API (ListKeys), not just that the port is open.
  local url="http://127.0.0.1:$PORT"
  if command -v curl >/dev/null; then
    curl -fsS -m 5 -X POST -H 'Content-Type: application/x-amz-json-1.1' \
      -H 'X-Amz-Target: TrentService.ListKeys' -d '{}' "$url/" >/dev/null ||
      die "local-kms on port $PORT does not answer ListKeys (log: $STATE/server.log)"
  fi
  printf '%s\n' "$url" >"$STATE/url"
  cat "$BIN_DIR/local-kms.version" >"$STATE/version" 2>/dev/null || echo unknown >"$STATE/version"
  say "ready on $url (region $REGION) in $(($(date +%s) - t0)) s; URL in $STATE/url"
}

cmd_url() {
  [ -f "$STATE/url" ] || die "no URL: local-kms was not started (scripts/services/local-kms.sh start)"
  cat "$STATE/url"
}

cmd_status() {
  local pid
  pid=$(read_pid)
  if ours "$pid"; then
    echo "running (pid $pid, port $PORT, data $STATE/data)"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) cmd_url ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|url|status" >&2
    exit 2
    ;;
esac
