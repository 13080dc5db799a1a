#!/usr/bin/env bash
# PostgreSQL init script for docker-compose.yml (mounted into
# /docker-entrypoint-initdb.d): one database and one role per service, each
# role owning only its database. Runs once, on an empty data volume.
set -euo pipefail

create() { # role password database
  local role="$1" password="$2" db="$3"
  if [ -z "$password" ]; then
    echo "init-databases: the password for role $role is empty; set it in postgres.env" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=role="$role" --set=password="$password" --set=db="$db" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
}

create users "${USERS_DB_PASSWORD:-}" users
create products "${PRODUCTS_DB_PASSWORD:-}" products
