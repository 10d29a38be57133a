#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages (if missing), starts the local cluster and lets the current user in
# as a superuser over the Unix socket, so that `postgresql:///postgres` works for the tests (and for trying a
# server on PostgreSQL: medperf server start --database postgresql:///medperf). Idempotent; needs root the first
# time. Prints the URL the tests use.
set -euo pipefail

say() { printf '[postgres] %s\n' "$*" >&2; }
die() { printf '[postgres] error: %s\n' "$*" >&2; exit 1; }

user="${SUDO_USER:-$(id -un)}"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if psql -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
  say "PostgreSQL already answers for $user"
  echo "postgresql:///postgres"
  exit 0
fi

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; run this script as root"
  say "apt-get install postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  say "creating cluster $version/main"
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk '$1=="'"$version"'" && $2=="main" {print $4}' | grep -qx online; then
  say "starting cluster $version/main"
  pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 50); do
  as_postgres psql -Atqc 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.2
done
as_postgres psql -Atqc 'SELECT 1' >/dev/null || die "the cluster $version/main does not answer"

if [ "$(as_postgres psql -Atqc "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]; then
  say "creating the superuser role $user (peer authentication over the Unix socket)"
  as_postgres psql -qc "CREATE ROLE \"$user\" SUPERUSER LOGIN"
fi
psql -d postgres -Atqc 'SELECT 1' >/dev/null || die "$user cannot connect to postgresql:///postgres"
say "ready: PostgreSQL $version, postgresql:///postgres as $user"
echo "postgresql:///postgres"
