#!/usr/bin/env bash
# Runs before `npm test`: makes sure the real peers and services the tests use are
# there. As root with apt-get it installs missing Debian packages and starts
# PostgreSQL, Redis and Mosquitto when they are installed but down; otherwise it
# prints the one command to run and fails, so no test is skipped silently.
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive

say() { printf 'test prerequisites: %s\n' "$*"; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- Debian packages: command or module -> package
missing=()
command -v socat >/dev/null || missing+=(socat)
command -v mbpoll >/dev/null || missing+=(mbpoll)
/usr/bin/python3 -c 'import pymodbus' 2>/dev/null || missing+=(python3-pymodbus)
command -v pg_ctlcluster >/dev/null || command -v postgres >/dev/null || missing+=(postgresql)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v mosquitto >/dev/null || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null || missing+=(mosquitto-clients)
command -v promtool >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v openssl >/dev/null || missing+=(openssl)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]}"
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } || { say "apt-get install failed"; exit 1; }
  else
    say "missing: ${missing[*]}"
    say "run: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# --- services on loopback (each test run makes its own database and topic prefix)
start_failed=()
if ! listening 5432; then
  say "starting PostgreSQL"
  if [ "$(id -u)" -eq 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start 2>/dev/null || true
    for _ in $(seq 1 30); do listening 5432 && break; sleep 1; done
  fi
  listening 5432 || start_failed+=("PostgreSQL on 127.0.0.1:5432 (sudo pg_ctlcluster <version> main start)")
fi
if ! listening 6379; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/test.log >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do listening 6379 && break; sleep 1; done
  listening 6379 || start_failed+=("Redis on 127.0.0.1:6379 (redis-server --daemonize yes --bind 127.0.0.1)")
fi
if ! listening 1883; then
  say "starting Mosquitto"
  { [ -f /etc/mosquitto/mosquitto.conf ] && mosquitto -d -c /etc/mosquitto/mosquitto.conf; } >/dev/null 2>&1 || mosquitto -d -p 1883 >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do listening 1883 && break; sleep 1; done
  listening 1883 || start_failed+=("Mosquitto on 127.0.0.1:1883 (mosquitto -d -p 1883)")
fi
if [ ${#start_failed[@]} -gt 0 ]; then
  for s in "${start_failed[@]}"; do say "not running: $s"; done
  exit 1
fi
exit 0
