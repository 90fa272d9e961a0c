#!/usr/bin/env bash
# A private PostgreSQL server for the key-store tests, on 127.0.0.1 only, in a throw-away data directory.
#
# Usage: scripts/services/postgres.sh start   install PostgreSQL if needed, (re)create and start the server,
#                                             write the connection URL to target/services/postgres/url
#        scripts/services/postgres.sh stop    stop the server (does nothing when it is not running)
#        scripts/services/postgres.sh url     print the connection URL
#        scripts/services/postgres.sh status  say whether the server is running
#
# Environment: TRESOR_PG_PORT (default 55432), TRESOR_SKIP_INSTALL=1 (never install packages).
#
# Runs as root (PostgreSQL itself runs as the `postgres` user, which the Debian package creates). Every
# `start` wipes the data directory and runs initdb again, so each run starts from an empty server. The
# server is tuned for tests (no fsync): never point anything valuable at it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE="$ROOT/target/services/postgres"
PORT="${TRESOR_PG_PORT:-55432}"
PG_USER=postgres
DB_ROLE=tresor
DB_NAME=tresor

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

case "$PORT" in '' | *[!0-9]*) die "TRESOR_PG_PORT must be a port number, not '$PORT'" ;; esac

# The newest server binaries installed (Debian keeps them in /usr/lib/postgresql/<version>/bin).
find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && printf '%s\n' "$d"
  done | sort -V | tail -n1
}

install_server() {
  [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ] && die "no PostgreSQL server found and TRESOR_SKIP_INSTALL=1"
  [ "$(id -u)" = 0 ] || die "no PostgreSQL server found; run as root to install the Debian package 'postgresql'"
  command -v apt-get >/dev/null || die "no PostgreSQL server found and no apt-get to install it"
  local before="" t0
  before=$(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}' || true)
  say "installing the Debian package 'postgresql'"
  t0=$(date +%s)
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >/dev/null
  say "installed in $(($(date +%s) - t0)) s"
  # The package creates a cluster ("main") and starts it where services may start. We want no
  # system-wide server: stop the clusters the installation created and keep them from starting at boot.
  # Clusters that existed before are someone else's: left alone.
  local ver name _port status _rest
  while read -r ver name _port status _rest; do
    [ -n "$ver" ] || continue
    if printf '%s\n' "$before" | grep -qxF "$ver/$name"; then continue; fi
    if [ "$status" = online ]; then
      say "stopping the Debian cluster $ver/$name started by the package"
      pg_ctlcluster "$ver" "$name" stop || true
    fi
    if [ -f "/etc/postgresql/$ver/$name/start.conf" ]; then
      echo manual >"/etc/postgresql/$ver/$name/start.conf"
    fi
  done < <(pg_lsclusters -h 2>/dev/null || true)
  if [ -z "$before" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
}

# Run a command as the postgres user, from / (it may not be allowed into the current directory).
as_pg() { (cd / && runuser -u "$PG_USER" -- "$@"); }

fallback_base() { printf '/tmp/tresor-postgres-%s' "$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"; }

# Where the postgres user keeps the server: under target/ when it can reach it, otherwise (e.g. a
# checkout under /root, which only root may enter) a directory in /tmp named after the checkout.
pick_base() {
  mkdir -p "$STATE"
  local base="$STATE/pg"
  mkdir -p "$base"
  chown "$PG_USER:$PG_USER" "$base"
  chmod 700 "$base"
  if ! as_pg test -w "$base" 2>/dev/null; then
    base=$(fallback_base)
    say "the postgres user cannot reach $STATE; using $base"
    mkdir -p "$base"
    chown "$PG_USER:$PG_USER" "$base"
    chmod 700 "$base"
  fi
  printf '%s' "$base"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stop the server whose data directory is $1/data, if it runs. Returns 0 when nothing is left running.
stop_base() {
  local base="$1" bin="$2" data="$1/data"
  [ -f "$data/postmaster.pid" ] || return 0
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "stopping the server in $data"
    as_pg "$bin/pg_ctl" -D "$data" stop -m fast -w -t 60 >/dev/null ||
      as_pg "$bin/pg_ctl" -D "$data" stop -m immediate -w -t 30 >/dev/null ||
      return 1
  fi
  # A pid file without a running server (e.g. after a crash or a reboot) is stale.
  rm -f "$data/postmaster.pid"
}

# A server of ours whose data directory was deleted under it (e.g. target/ removed while it ran) has no
# pid file left for pg_ctl: find its postmaster by the data directory on its command line and shut it
# down (SIGINT = fast shutdown).
kill_orphans() {
  local p cmd base pids=()
  for p in /proc/[0-9]*; do
    [ "$(stat -c %U "$p" 2>/dev/null)" = "$PG_USER" ] || continue
    cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
    while read -r base; do
      [ -n "$base" ] || continue
      case "$cmd" in *"/postgres -D $base/data"*) pids+=("${p#/proc/}") ;; esac
    done < <(recorded_bases | sort -u)
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  say "stopping orphaned server process(es) ${pids[*]}"
  kill -INT "${pids[@]}" 2>/dev/null || true
  local i
  for i in $(seq 1 40); do
    port_open "$PORT" || return 0
    sleep 0.5
  done
}

recorded_bases() {
  # The base of the previous run, the default one and the fallback one.
  if [ -f "$STATE/base" ]; then cat "$STATE/base"; fi
  echo "$STATE/pg"
  fallback_base
  echo
}

cmd_stop() {
  local bin base
  bin=$(find_bin)
  if [ -z "$bin" ]; then say "not running (no PostgreSQL installed)"; return 0; fi
  local stopped=0
  while read -r base; do
    [ -n "$base" ] && [ -d "$base/data" ] || continue
    [ -f "$base/data/postmaster.pid" ] && stopped=1
    stop_base "$base" "$bin" || die "could not stop the server in $base/data"
  done < <(recorded_bases | sort -u)
  [ "$stopped" = 1 ] && say "stopped" || say "not running"
}

cmd_start() {
  [ "$(id -u)" = 0 ] || die "run as root (the server runs as the '$PG_USER' user)"
  local t0 bin
  t0=$(date +%s)
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    install_server
    bin=$(find_bin)
    [ -n "$bin" ] || die "the package 'postgresql' is installed but no server binaries were found"
  fi
  id "$PG_USER" >/dev/null 2>&1 || die "no '$PG_USER' user (it comes with the Debian package)"
  say "server binaries: $bin ($("$bin/postgres" --version))"

  # A server left over from a previous run: stop it.
  cmd_stop
  if port_open "$PORT"; then
    kill_orphans
    port_open "$PORT" && die "something else listens on 127.0.0.1:$PORT; choose another port with TRESOR_PG_PORT"
  fi

  local base data log pw superpw
  base=$(pick_base)
  printf '%s\n' "$base" >"$STATE/base"
  data="$base/data"
  log="$base/server.log"
  rm -rf "$data" "$STATE/url"
  rm -f "$log"

  pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  superpw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # The password files are read by the postgres user only.
  printf '%s\n' "$superpw" >"$base/superuser.pw"
  chown "$PG_USER:$PG_USER" "$base/superuser.pw"
  chmod 600 "$base/superuser.pw"
  as_pg "$bin/initdb" -D "$data" -U postgres --pwfile="$base/superuser.pw" \
    --auth-local=peer --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 ||
    as_pg "$bin/initdb" -D "$data" -U postgres --pwfile="$base/superuser.pw" \
      --auth-local=peer --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C >"$STATE/initdb.log" 2>&1 ||
    { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
  # Loopback TCP only, no Unix socket (its path would depend on the checkout's path length), and
  # test-friendly durability settings.
  as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- tresor test server (scripts/services/postgres.sh) ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = ''
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
  as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null ||
    { tail -n 30 "$log" >&2 || true; die "the server did not start (log: $log)"; }

  local i
  for i in $(seq 1 60); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    [ "$i" = 60 ] && die "the server is not ready after 30 s (log: $log)"
    sleep 0.5
  done

  PGPASSWORD="$superpw" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres <<EOF
CREATE ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$pw';
CREATE DATABASE $DB_NAME OWNER $DB_ROLE;
EOF
  local url="postgres://$DB_ROLE:$pw@127.0.0.1:$PORT/$DB_NAME"
  (umask 077 && printf '%s\n' "$url" >"$STATE/url")
  say "ready on 127.0.0.1:$PORT in $(($(date +%s) - t0)) s; URL in $STATE/url"
}

cmd_url() {
  [ -f "$STATE/url" ] || die "no URL: the server was not started (scripts/services/postgres.sh start)"
  cat "$STATE/url"
}

cmd_status() {
  local bin base
  bin=$(find_bin)
  [ -n "$bin" ] || { echo "not installed"; return 1; }
  while read -r base; do
    [ -n "$base" ] || continue
    if [ -f "$base/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
      echo "running (data: $base/data, port $(sed -n 4p "$base/data/postmaster.pid"))"
      return 0
    fi
  done < <(recorded_bases | sort -u)
  echo "not running"
  return 1
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
