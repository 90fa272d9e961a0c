#!/usr/bin/env bash
# A private SoftHSM2 token for the PKCS#11 driver tests, in a throw-away token directory.
#
# Usage: scripts/services/softhsm.sh start   install SoftHSM2 if needed, (re)create the token 'tresor-test'
#                                            with a random user PIN, write the environment to
#                                            target/services/softhsm/env (and print it)
#        scripts/services/softhsm.sh stop    remove the token directory (does nothing when absent)
#        scripts/services/softhsm.sh env     print the environment (after `start`)
#
# Environment: TRESOR_SKIP_INSTALL=1 (never install packages).
#
# The configuration file and token directory are private to this checkout (SOFTHSM2_CONF points at them),
# so the system-wide SoftHSM2 configuration is never used or touched. Every `start` wipes the tokens and
# initialises a fresh one, so each run starts from an empty token.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE="$ROOT/target/services/softhsm"
TOKENS="$STATE/tokens"
CONF="$STATE/softhsm2.conf"
PIN_FILE="$STATE/pin"
ENV_FILE="$STATE/env"
LABEL=tresor-test
MODULE_CANDIDATES=(/usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
  /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so)

say() { printf 'softhsm.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
# SoftHSM2 cannot be had on this machine: say why on stdout and exit 3 (the test step reports "blocked").
blocked() { printf 'blocked: %s\n' "$*"; say "blocked: $*"; exit 3; }

find_module() {
  local m
  for m in "${MODULE_CANDIDATES[@]}"; do
    [ -f "$m" ] && { printf '%s\n' "$m"; return 0; }
  done
  return 1
}

install_softhsm() {
  [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ] && blocked "SoftHSM2 is not installed and TRESOR_SKIP_INSTALL=1"
  [ "$(id -u)" = 0 ] || blocked "SoftHSM2 is not installed; run as root to install the Debian package 'softhsm2'"
  command -v apt-get >/dev/null || blocked "SoftHSM2 is not installed and there is no apt-get to install it"
  say "installing the Debian package 'softhsm2'"
  apt-get update -qq >/dev/null || blocked "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends softhsm2 >/dev/null ||
    blocked "apt-get install softhsm2 failed"
}

random_pin() {
  # 16 decimal digits from the kernel RNG.
  od -An -N16 -tu1 /dev/urandom | tr -s ' ' '\n' | grep -v '^$' | awk '{printf "%d", $1 % 10}'
}

write_env() {
  local module=$1
  umask 077
  cat >"$ENV_FILE" <<EOF
export SOFTHSM2_CONF='$CONF'
export TRESOR_TEST_PKCS11_MODULE='$module'
export TRESOR_TEST_PKCS11_TOKEN='$LABEL'
export TRESOR_TEST_PKCS11_PIN_FILE='$PIN_FILE'
EOF
}

start() {
  local module
  module=$(find_module) || { install_softhsm; module=$(find_module) || blocked "softhsm2 installed but no libsofthsm2.so found"; }
  command -v softhsm2-util >/dev/null || die "softhsm2-util not found"
  rm -rf "$TOKENS"
  mkdir -p "$TOKENS"
  chmod 700 "$STATE" "$TOKENS"
  cat >"$CONF" <<EOF
directories.tokendir = $TOKENS
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
  local pin so_pin
  pin=$(random_pin)
  so_pin=$(random_pin)
  (umask 077 && printf '%s\n' "$pin" >"$PIN_FILE")
  chmod 600 "$PIN_FILE"
  SOFTHSM2_CONF="$CONF" softhsm2-util --init-token --free --label "$LABEL" --pin "$pin" --so-pin "$so_pin" >/dev/null ||
    die "softhsm2-util could not initialise the token"
  write_env "$module"
  say "token '$LABEL' ready ($(softhsm2-util --version 2>/dev/null || echo '?'), module $module)"
  cat "$ENV_FILE"
}

stop() {
  rm -rf "$TOKENS" "$PIN_FILE"
  [ -f "$ENV_FILE" ] && rm -f "$ENV_FILE"
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) [ -f "$ENV_FILE" ] || die "not started (no $ENV_FILE)"; cat "$ENV_FILE" ;;
  *) die "usage: $0 start|stop|env" ;;
esac
