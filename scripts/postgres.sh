#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests and benchmarks of the history
# database. Sourced by test.sh (and usable by hand):
#
#   . scripts/postgres.sh
#   reprove_postgres_start   # exports REPROVE_TEST_POSTGRES=postgres://…@127.0.0.1:PORT/postgres
#   …
#   reprove_postgres_stop    # stops it and removes its data folder
#
# The cluster lives in a fresh folder under /tmp, listens on 127.0.0.1 only
# (and a Unix socket in that folder), on a free port, with a random password.
# As root it runs as the postgres user (root cannot run postgres); otherwise
# as the calling user. fsync is off: the data is thrown away.

reprove_postgres_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	echo "reprove: PostgreSQL is missing: apt-get install -y postgresql (scripts/setup.sh does)" >&2
	return 1
}

# reprove_postgres_as runs a command as the user that owns the cluster.
reprove_postgres_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

reprove_postgres_start() {
	local bin port password try
	bin=$(reprove_postgres_bin) || return 1
	REPROVE_PG_DIR=$(mktemp -d /tmp/reprove-pg.XXXXXX)
	password=$(openssl rand -hex 16)
	printf '%s\n' "$password" > "$REPROVE_PG_DIR/pwfile"
	if [ "$(id -u)" = 0 ]; then chown -R postgres: "$REPROVE_PG_DIR"; fi
	reprove_postgres_as "$bin/initdb" -D "$REPROVE_PG_DIR/data" -U reprove --pwfile="$REPROVE_PG_DIR/pwfile" \
		--auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$REPROVE_PG_DIR/initdb.log" 2>&1 || {
		cat "$REPROVE_PG_DIR/initdb.log" >&2
		return 1
	}
	rm -f "$REPROVE_PG_DIR/pwfile"
	# A port another process took between the pick and the start fails the
	# start; pick again.
	for try in 1 2 3 4 5; do
		port=$(( 20000 + RANDOM % 20000 ))
		if reprove_postgres_as "$bin/pg_ctl" -D "$REPROVE_PG_DIR/data" -l "$REPROVE_PG_DIR/server.log" -w -t 60 start \
			-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$REPROVE_PG_DIR -c fsync=off -c max_connections=200" >/dev/null; then
			export REPROVE_TEST_POSTGRES="postgres://reprove:$password@127.0.0.1:$port/postgres?sslmode=disable"
			echo "reprove: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $REPROVE_PG_DIR)" >&2
			return 0
		fi
	done
	tail -20 "$REPROVE_PG_DIR/server.log" >&2
	return 1
}

reprove_postgres_stop() {
	if [ -z "${REPROVE_PG_DIR:-}" ] || [ ! -d "$REPROVE_PG_DIR" ]; then return 0; fi
	local bin
	bin=$(reprove_postgres_bin) || return 0
	reprove_postgres_as "$bin/pg_ctl" -D "$REPROVE_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$REPROVE_PG_DIR"
	unset REPROVE_PG_DIR REPROVE_TEST_POSTGRES
}
