#!/usr/bin/env bash
# Start Debian's pgbouncer in transaction-pooling mode in front of a PostgreSQL server.
#   scripts/pgbouncer.sh UPSTREAM_URL [PORT] [DIR]
# UPSTREAM_URL: postgresql://user[:password]@host:port/db (trust or password auth);
# PORT: where pgbouncer listens (default: a free one); DIR: its config/pid/log folder.
# Prints the URL to use instead of UPSTREAM_URL (same user/password/database) on stdout;
# stop it with: kill "$(cat DIR/pgbouncer.pid)".
# Transaction pooling cannot pass StockFlow's per-connection startup parameters (the
# role that row-level security binds, the statement timeout) through to PostgreSQL, so
# pgbouncer drops them from the client and sets the same on each server connection it
# opens (connect_query), from STOCKFLOW_DB_ROLE and STOCKFLOW_DB_STATEMENT_TIMEOUT_MS as
# the app reads them (tests/ops/test_pgbouncer.py checks that both arrive).
set -euo pipefail
upstream=${1:?usage: pgbouncer.sh postgresql://user@host:port/db [port] [dir]}
port=${2:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
dir=${3:-$(mktemp -d /tmp/stockflow-pgbouncer-XXXXXX)}
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$bin" ] || { echo "pgbouncer is not installed: run 'make pgbouncer'" >&2; exit 1; }

read -r user password host dbport db < <(python3 - "$upstream" <<'PY'
import sys
from urllib.parse import parse_qs, unquote, urlsplit
u = urlsplit(sys.argv[1].replace("+asyncpg", ""))
host = parse_qs(u.query).get("host", [u.hostname or "127.0.0.1"])[0]  # a socket folder too
print(unquote(u.username or "postgres"), unquote(u.password or "-"), host,
      u.port or 5432, u.path.lstrip("/") or "postgres")
PY
)
role=${STOCKFLOW_DB_ROLE-stockflow_app}
timeout_ms=${STOCKFLOW_DB_STATEMENT_TIMEOUT_MS:-10000}
[[ "$role" =~ ^([a-z_][a-z0-9_]*)?$ ]] || { echo "STOCKFLOW_DB_ROLE: not a plain role name" >&2; exit 1; }
[[ "$timeout_ms" =~ ^[0-9]+$ ]] || { echo "STOCKFLOW_DB_STATEMENT_TIMEOUT_MS: not a number" >&2; exit 1; }
connect_query="SET statement_timeout = $timeout_ms${role:+; SET ROLE $role}"
mkdir -p "$dir"
# md5/plain auth against a userlist; the password (if any) is passed through as-is.
pw=$([ "$password" = "-" ] && echo "" || echo "$password")
printf '"%s" "%s"\n' "$user" "$pw" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$dbport connect_query='$connect_query'
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = $([ "$password" = "-" ] && echo trust || echo plain)
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits,options,plan_cache_mode,application_name,statement_timeout,role
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
# pgbouncer refuses to run as root: run it as the owner of the upstream's socket folder
# when that is a Unix socket (the embedded server's folder is private to its owner), else
# as a `pgbouncer` system user.
if [ "$(id -u)" = 0 ]; then
    runas=pgbouncer
    if [[ "$host" == /* ]] && [ "$(stat -c %u "$host")" != 0 ]; then
        runas=$(stat -c %U "$host")
    fi
    if [ "$runas" = pgbouncer ]; then
        id -u pgbouncer >/dev/null 2>&1 || useradd --system --no-create-home pgbouncer 2>/dev/null || true
    fi
    chown -R "$runas" "$dir"
    su -s /bin/sh "$runas" -c "$bin -d $dir/pgbouncer.ini" >&2
else
    "$bin" -d "$dir/pgbouncer.ini" >&2
fi
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
auth=$([ "$password" = "-" ] && echo "$user" || echo "$user:$password")
echo "postgresql://$auth@127.0.0.1:$port/$db"
