#!/usr/bin/env bash
# Makes sure the services the integration tests use are up on this machine, and creates the test roles.
# Safe to run again. Commands from the machine notes (docs/development.md).
set -euo pipefail

wait_for() { # name, command
  for _ in $(seq 1 30); do if eval "$2" >/dev/null 2>&1; then return 0; fi; sleep 1; done
  echo "service $1 did not come up" >&2; return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
wait_for postgres "pg_isready -h 127.0.0.1 -p 5432"
# The app's test role: not a superuser and not BYPASSRLS, so row-level security applies to it.
psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'canopy') THEN
    CREATE ROLE canopy LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB;
  END IF;
END $$;
SQL

if ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
wait_for mariadb "mysqladmin -h 127.0.0.1 -uroot ping"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for redis "redis-cli -h 127.0.0.1 -p 6379 ping"
echo "services: postgres, mariadb, redis up"
