#!/bin/sh
# Turns schema/NNNN_name.sql files into build/schema.c (see server/schema.h),
# so that the daemon carries its migrations inside the binary.
set -eu
printf '/* Generated from the schema/ migrations by tests/tools/embed-schema.sh. Do not edit. */\n'
printf '#include "schema.h"\n\nconst struct schema_migration schema_migrations[] = {\n'
count=0
for f in "$@"; do
	base=$(basename "$f")
	version=$(printf '%s' "$base" | sed 's/^\([0-9]*\)_.*/\1/' | sed 's/^0*//')
	printf '\t{%s, "%s",\n' "${version:-0}" "$base"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
	count=$((count + 1))
done
printf '};\n\nconst size_t schema_migration_count = %d;\n' "$count"
