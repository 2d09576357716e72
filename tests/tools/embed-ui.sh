#!/bin/sh
# Turns the Admin UI's files (server/ui/*) into build/ui_files.c (see
# server/ui.h): each file's bytes as a C string with its content type and a
# strong ETag (the first 128 bits of its SHA-256), so that the daemon serves
# the UI from memory and needs no file at run time. Fails when the UI grows
# past its budget of 200 KiB, or a file has a type it does not know.
set -eu
budget=204800
total=0
printf '/* Generated from server/ui/ by tests/tools/embed-ui.sh. Do not edit. */\n'
printf '#include "ui.h"\n\nconst struct ui_file ui_files[] = {\n'
count=0
for f in "$@"; do
	base=$(basename "$f")
	case "$base" in
	*.html) type='text/html; charset=utf-8' ;;
	*.css) type='text/css; charset=utf-8' ;;
	*.js) type='text/javascript; charset=utf-8' ;;
	*.svg) type='image/svg+xml' ;;
	*) echo "embed-ui.sh: $f: unknown type" >&2; exit 1 ;;
	esac
	if LC_ALL=C grep -q "$(printf '[\001-\010\016-\037]')" "$f"; then
		echo "embed-ui.sh: $f: control characters; text files only" >&2
		exit 1
	fi
	if [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo "embed-ui.sh: $f: must end with a newline" >&2
		exit 1
	fi
	size=$(wc -c < "$f")
	total=$((total + size))
	etag=$(sha256sum "$f" | cut -c1-32)
	printf '\t{"%s", "%s", "\\"%s\\"", %s,\n' "$base" "$type" "$etag" "$size"
	# backslashes, quotes and "?" (no trigraph can form) escaped; one source line per line
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/\t/\\t/g' -e 's/\r/\\r/g' \
		-e 's/^/\t "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
	count=$((count + 1))
done
printf '};\n\nconst size_t ui_file_count = %d;\n' "$count"
if [ "$total" -gt "$budget" ]; then
	echo "embed-ui.sh: the UI is $total bytes, over its budget of $budget" >&2
	exit 1
fi
