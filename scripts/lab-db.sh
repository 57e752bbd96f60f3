#!/usr/bin/env bash
# PostgreSQL for edgebench's results store (--store URL / $EDGEBENCH_STORE).
#
#   scripts/lab-db.sh setup [--database NAME] [--user NAME] [--password PW | --reset-password]
#                           [--allow CIDR] [--host NAME]
#       The lab's database: installs PostgreSQL from Debian packages when missing (apt-get, as root or
#       with sudo), makes sure a cluster runs, creates the user and the database, prints the store URL.
#       --allow CIDR also opens it to the other hosts of the lab (listen on every address, password
#       login from CIDR, e.g. 192.168.1.0/24); the URL then names this host (--host to choose the name).
#       Run again at any time: what exists is kept (a user's password only changes with --password or
#       --reset-password; without, the URL is printed with PASSWORD in its place).
#   scripts/lab-db.sh throwaway DIR [--owner-pid PID]
#       A private server for tests: initdb into DIR (a new or empty folder), started on a free loopback
#       port with its unix socket in DIR, no fsync (nothing in it outlives the run); prints the URL of
#       its superuser "edgebench" (trust login, loopback only). As root it runs as the user postgres
#       (PostgreSQL refuses to run as root). --owner-pid: stop it and delete DIR when PID exits.
#   scripts/lab-db.sh stop DIR
#       Stops a throwaway server (immediately) and deletes DIR.
#   scripts/lab-db.sh halt DIR  /  scripts/lab-db.sh start DIR
#       A database outage on a throwaway server, for tests: halt stops it as an administrator would
#       (pg_ctl stop -m fast: every session ends) and keeps DIR; start starts it again on the same port.
#   scripts/lab-db.sh install
#       Only the Debian package (postgresql).
#
# Exit codes: 0 done, 1 failed (the reason on stderr), 2 bad arguments, 3 PostgreSQL is not installed
# (throwaway: the tests skip their PostgreSQL half with this message unless EDGEBENCH_REQUIRE_POSTGRES=1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "lab-db: $*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "this step needs root: run as root or install sudo (it was: $*)"; fi
}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -u postgres "$@"
  else die "this step runs as the user postgres: run as root or install sudo (it was: $*)"; fi
}

# The server programs (initdb, pg_ctl): $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else PATH.
pg_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] || return 1
    echo "$PG_BINDIR"; return
  fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then echo "$newest"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"; return
  fi
  return 1
}

install_postgres() {
  if pg_bindir >/dev/null && command -v pg_lsclusters >/dev/null 2>&1; then return; fi
  say "installing PostgreSQL (Debian package postgresql)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
check_name() {
  [[ "$2" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { say "$1 must be a plain lower-case name (a-z, 0-9, _). Received: '$2'"; exit 2; }
}

setup() {
  local database=edgebench user=edgebench password="" reset=0 allow="" host=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --database) database=$2; shift 2 ;;
      --user) user=$2; shift 2 ;;
      --password) password=$2; shift 2 ;;
      --reset-password) reset=1; shift ;;
      --allow) allow=$2; shift 2 ;;
      --host) host=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  check_name --database "$database"
  check_name --user "$user"
  install_postgres
  local cluster version name port status
  cluster=$(pg_lsclusters --no-header 2>/dev/null | head -n 1 || true)
  if [ -z "$cluster" ]; then
    version=$(basename "$(dirname "$(pg_bindir)")")
    say "creating PostgreSQL cluster $version/main"
    as_root pg_createcluster "$version" main >/dev/null
    cluster=$(pg_lsclusters --no-header | head -n 1)
  fi
  read -r version name port status _ <<<"$cluster"
  if [ -n "$allow" ]; then
    local hba
    hba=$(as_postgres psql -p "$port" -tAc "SHOW hba_file" 2>/dev/null || echo "/etc/postgresql/$version/$name/pg_hba.conf")
    as_root pg_conftool "$version" "$name" set listen_addresses '*'
    if ! as_root grep -qE "^host[[:space:]]+$database[[:space:]]+$user[[:space:]]+$allow[[:space:]]" "$hba"; then
      echo "host $database $user $allow scram-sha-256" | as_root tee -a "$hba" >/dev/null
    fi
    [ "$status" = down ] || as_root pg_ctlcluster "$version" "$name" restart
    host=${host:-$(hostname -f 2>/dev/null || hostname)}
  fi
  if [ "$status" = down ] || ! as_postgres psql -p "$port" -tAc "SELECT 1" >/dev/null 2>&1; then
    say "starting PostgreSQL cluster $version/$name (port $port)"
    as_root pg_ctlcluster "$version" "$name" start
  fi
  host=${host:-127.0.0.1}
  local psql=(psql -p "$port" -v ON_ERROR_STOP=1 -tAq)
  if [ -z "$(as_postgres "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" ]; then
    password=${password:-$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')}
    as_postgres "${psql[@]}" -c "CREATE ROLE $user LOGIN PASSWORD $(sql_literal "$password")"
    say "created user $user"
  elif [ -n "$password" ] || [ "$reset" = 1 ]; then
    password=${password:-$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')}
    as_postgres "${psql[@]}" -c "ALTER ROLE $user WITH LOGIN PASSWORD $(sql_literal "$password")"
    say "set a new password for user $user (update the URL on every host)"
  fi
  if [ -z "$(as_postgres "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
    as_postgres "${psql[@]}" -c "CREATE DATABASE $database OWNER $user"
    say "created database $database"
  fi
  if [ -n "$password" ]; then
    PGPASSWORD=$password psql -h "$host" -p "$port" -U "$user" -d "$database" -tAc "SELECT 1" >/dev/null \
      || die "user $user cannot log in to $database at $host:$port with the new password: see the server log"
    echo "postgresql+psycopg://$user:$(urlencode "$password")@$host:$port/$database"
  else
    say "user $user exists and keeps its password: put it in the URL below (or run again with --reset-password)"
    echo "postgresql+psycopg://$user:PASSWORD@$host:$port/$database"
  fi
}

throwaway() {
  local dir=${1:-} owner_pid=""
  [ -n "$dir" ] || usage
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --owner-pid) owner_pid=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  local bin
  bin=$(pg_bindir) || { say "PostgreSQL's server programs (initdb, pg_ctl) are not installed${PG_BINDIR:+ in PG_BINDIR=$PG_BINDIR}: run scripts/lab-db.sh install (Debian package postgresql) or set PG_BINDIR to their folder"; exit 3; }
  mkdir -p "$dir"
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty: give a new or empty folder for the throwaway server"
  dir=$(cd "$dir" && pwd)
  local run=()
  if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || die "as root, PostgreSQL must run as another user and there is no user postgres: create one (useradd postgres) or run as a normal user"
    chown postgres "$dir"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$dir/data" -A trust -U edgebench -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb into $dir/data failed (above)"; }
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if start_throwaway "$bin" "$dir" "$port"; then
      break
    fi
    if [ "$attempt" = 5 ] || ! grep -q "could not bind\|already in use" "$dir/server.log"; then
      tail -n 20 "$dir/server.log" >&2 || true
      die "the throwaway PostgreSQL in $dir did not start (its log above)"
    fi
  done
  local url="postgresql+psycopg://edgebench@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  if [ -n "$owner_pid" ]; then
    # Detached: the server goes when its owner goes, even if the owner is killed before it can stop it.
    setsid bash -c 'while [ -d "$2" ] && kill -0 "$1" 2>/dev/null; do sleep 2; done; [ ! -d "$2" ] || "$3" stop "$2"' \
      lab-db-watch "$owner_pid" "$dir" "$here/lab-db.sh" </dev/null >/dev/null 2>&1 &
  fi
  echo "$url"
}

start_throwaway() {  # BIN DIR PORT
  local run=()
  [ "$(id -u)" != 0 ] || run=(runuser -u postgres --)
  "${run[@]}" "$1/pg_ctl" -D "$2/data" -l "$2/server.log" -w -t 60 -s start \
    -o "-p $3 -k $2 -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null 2>&1
}

throwaway_again() {  # halt|start DIR
  local dir=${2:-} bin owner run=()
  [ -n "$dir" ] && [ -f "$dir/url" ] || die "${dir:-DIR} is not a throwaway server's folder (no url file in it)"
  bin=$(pg_bindir) || die "cannot find pg_ctl for the server in $dir"
  owner=$(stat -c %U "$dir/data")
  if [ "$(id -un)" != "$owner" ] && [ "$(id -u)" = 0 ]; then run=(runuser -u "$owner" --); fi
  if [ "$1" = halt ]; then
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -s stop >/dev/null 2>&1 || die "pg_ctl stop in $dir failed"
  else
    local port
    port=$(sed -E 's|.*:([0-9]+)/[^/]*$|\1|' "$dir/url")
    start_throwaway "$bin" "$dir" "$port" || { tail -n 20 "$dir/server.log" >&2 || true; die "the server in $dir did not start again on port $port (its log above)"; }
  fi
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] || usage
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    local bin owner run=()
    bin=$(pg_bindir) || die "cannot find pg_ctl to stop the server in $dir"
    owner=$(stat -c %U "$dir/data")
    if [ "$(id -un)" != "$owner" ] && [ "$(id -u)" = 0 ]; then run=(runuser -u "$owner" --); fi
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  setup) shift; setup "$@" ;;
  throwaway) shift; throwaway "$@" ;;
  stop) shift; stop "$@" ;;
  halt | start) throwaway_again "$@" ;;
  install) install_postgres ;;
  *) usage ;;
esac
