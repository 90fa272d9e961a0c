#!/usr/bin/env bash
# tresor's own GCP Cloud KMS v1 REST test server (tests/services/gcp-kms/server.py, Python + `cryptography`;
# not Google's service) for the GCP driver tests, on 127.0.0.1 only, in memory (every start is empty).
#
# Usage: scripts/services/gcp-kms.sh start   create the private venv if needed (pip install of
#                                            tests/services/gcp-kms/requirements.txt), (re)start the server,
#                                            write its base URL to target/services/gcp-kms/url
#        scripts/services/gcp-kms.sh stop    stop it (does nothing when it is not running)
#        scripts/services/gcp-kms.sh url     print the base URL
#        scripts/services/gcp-kms.sh status  say whether it is running
#
# Environment: TRESOR_GCP_KMS_PORT (default: a free port chosen by the server),
#              TRESOR_SKIP_INSTALL=1 (never install: the venv must already exist),
#              TRESOR_PYTHON (the interpreter that creates the venv, default python3; 3.11 or newer),
#              GCP_KMS_TEST_PENDING_MS (passed to the server: keep every new key version
#              PENDING_GENERATION this many milliseconds; see tests/services/gcp-kms/README.md).
#
# The venv is target/services/gcp-kms/venv; the server's log is target/services/gcp-kms/server.log (request
# lines and statuses, never bodies). Exit code 3 means "blocked": the venv cannot be made or its packages
# cannot be installed here; the last line says why, starting with "blocked:".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC="$ROOT/tests/services/gcp-kms"
STATE="$ROOT/target/services/gcp-kms"
VENV="$STATE/venv"
VPY="$VENV/bin/python"
SERVER="$SRC/server.py"
REQS="$SRC/requirements.txt"
PORT="${TRESOR_GCP_KMS_PORT:-0}"
PYTHON="${TRESOR_PYTHON:-python3}"

say() { printf 'gcp-kms.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
blocked() {
  mkdir -p "$STATE"
  printf '%s\n' "$*" >"$STATE/blocked"
  echo "blocked: $*"
  exit 3
}

case "$PORT" in '' | *[!0-9]*) die "TRESOR_GCP_KMS_PORT must be a port number, not '$PORT'" ;; esac

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A stamp of the requirements the venv was built from, so a changed requirements.txt rebuilds it.
reqs_stamp() { sha256sum "$REQS" | cut -d' ' -f1; }

venv_ok() {
  [ -x "$VPY" ] && [ -f "$VENV/.tresor-reqs" ] && [ "$(cat "$VENV/.tresor-reqs")" = "$(reqs_stamp)" ] &&
    "$VPY" -c 'import cryptography, google.cloud.kms_v1, pytest' 2>/dev/null
}

install_venv() {
  venv_ok && return 0
  [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ] &&
    blocked "the server's venv ($VENV) is missing or out of date and TRESOR_SKIP_INSTALL=1"
  command -v "$PYTHON" >/dev/null || blocked "no Python interpreter '$PYTHON' to create $VENV"
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' ||
    blocked "$PYTHON is $("$PYTHON" -c 'import sys; print(sys.version.split()[0])'); the server needs Python 3.11 or newer"
  mkdir -p "$STATE"
  local t0 log
  t0=$(date +%s)
  log="$STATE/install.log"
  say "creating $VENV and installing $(basename "$REQS")"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" >"$log" 2>&1 || blocked "python -m venv failed (is the venv module installed?): $(tail -n1 "$log")"
  if ! "$VPY" -m pip install --disable-pip-version-check -q -r "$REQS" >>"$log" 2>&1; then
    local why
    why=$(grep -m1 -E 'No matching distribution|Could not find|ERROR' "$log" || tail -n1 "$log")
    rm -rf "$VENV"
    blocked "pip install -r $REQS failed: $why (full log: $log)"
  fi
  reqs_stamp >"$VENV/.tresor-reqs"
  say "venv ready in $(($(date +%s) - t0)) s"
}

read_pid() { [ -f "$STATE/pid" ] && cat "$STATE/pid" || true; }

# Whether $1 is a server started by this script (not whatever process reused the pid).
ours() {
  local pid="$1"
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$SERVER"
}

cmd_stop() {
  local pid i
  pid=$(read_pid)
  if ! ours "$pid"; then
    rm -f "$STATE/pid" "$STATE/url"
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
  rm -f "$STATE/pid" "$STATE/url"
  say "stopped (pid $pid)"
}

cmd_start() {
  local t0 pid i url log
  t0=$(date +%s)
  mkdir -p "$STATE"
  rm -f "$STATE/blocked"
  install_venv
  cmd_stop
  rm -f "$STATE/url" "$STATE/url.next"
  if [ "$PORT" != 0 ] && port_open "$PORT"; then
    die "something else listens on 127.0.0.1:$PORT; choose another port with TRESOR_GCP_KMS_PORT"
  fi
  log="$STATE/server.log"
  setsid "$VPY" "$SERVER" --port "$PORT" --url-file "$STATE/url.next" >"$log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$STATE/pid"
  url=""
  for i in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      rm -f "$STATE/pid"
      die "the server exited during start-up (log: $log)"
    fi
    if [ -f "$STATE/url.next" ]; then
      url=$(cat "$STATE/url.next")
      # It listens; check that it speaks the API (a missing key ring is a JSON NOT_FOUND).
      if command -v curl >/dev/null; then
        if curl -s -m 2 "$url/v1/projects/tresor-probe/locations/global/keyRings/probe" | grep -q '"NOT_FOUND"'; then
          break
        fi
      elif port_open "${url##*:}"; then
        break
      fi
    fi
    [ "$i" = 150 ] && { cmd_stop; die "the server does not answer after 30 s (log: $log)"; }
    sleep 0.2
  done
  mv "$STATE/url.next" "$STATE/url"
  say "ready on $url (pid $pid) in $(($(date +%s) - t0)) s; URL in $STATE/url, log in $log"
}

cmd_url() {
  [ -f "$STATE/url" ] || die "no URL: the server was not started (scripts/services/gcp-kms.sh start)"
  cat "$STATE/url"
}

cmd_status() {
  local pid
  pid=$(read_pid)
  if ours "$pid"; then
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
