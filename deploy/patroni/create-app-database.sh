#!/bin/sh
# Creates Mini-Kart's role and database on the primary, and sets the role's
# password; running it again changes nothing but the password. The deploy
# step runs it before `minikart migrate up`: the loopback cluster
# (`make cluster`) and docker-compose.yml's create-database service alike.
#
# It connects with libpq's own variables, as a superuser: PGHOST, PGPORT,
# PGUSER, PGPASSWORD (through HAProxy, which leads to the primary). It waits up
# to APP_DB_WAIT seconds (default 60) for the primary to answer.
#   APP_DB_PASSWORD  the application role's password (required)
#   APP_DB_USER      the application role (default minikart)
#   APP_DB_NAME      its database (default minikart)
set -eu
: "${APP_DB_PASSWORD:?set APP_DB_PASSWORD, the password of the application role}"
wait=${APP_DB_WAIT:-60}
until psql -X -q -d postgres -c 'SELECT 1' >/dev/null 2>&1; do
	wait=$((wait - 1))
	if [ "$wait" -le 0 ]; then
		psql -X -q -d postgres -c 'SELECT 1'
		exit 1
	fi
	sleep 1
done
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
	-v user="${APP_DB_USER:-minikart}" -v db="${APP_DB_NAME:-minikart}" -v password="$APP_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
