#!/bin/sh
# Turns NNNN_name.sql migration files into C (see server/schema.h), so that
# the daemon carries its migrations inside the binary:
#   embed-schema.sh schema/0*.sql                      -> schema_migrations
#   embed-schema.sh --prefix postgres_schema schema/postgres/0*.sql
set -eu
prefix=schema
if [ "${1:-}" = "--prefix" ]; then
	prefix=$2
	shift 2
fi
printf '/* Generated from migration files by tests/tools/embed-schema.sh. Do not edit. */\n'
printf '#include "schema.h"\n\nconst struct schema_migration %s_migrations[] = {\n' "$prefix"
count=0
for f in "$@"; do
	base=$(basename "$f")
	version=$(printf '%s' "$base" | sed 's/^\([0-9]*\)_.*/\1/' | sed 's/^0*//')
	printf '\t{%s, "%s",\n' "${version:-0}" "$base"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
	count=$((count + 1))
done
printf '};\n\nconst size_t %s_migration_count = %d;\n' "$prefix" "$count"
