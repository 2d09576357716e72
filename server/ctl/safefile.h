/*
 * safefile.h - opening the files mgmtctl reads (the profile file, a
 * token_file, a cached sign-in) so that what another user planted cannot
 * hang or fool it.
 *
 * open(2) of a FIFO for reading blocks until a writer comes: a FIFO planted
 * where a file is expected would hang every command. The file is opened
 * with O_NONBLOCK (which makes open return at once, whatever it is), checked
 * with fstat, refused unless it is a regular file, and only then made
 * blocking again for the reads.
 */
#ifndef MGMTCTL_SAFEFILE_H
#define MGMTCTL_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * Opens path read-only (O_CLOEXEC, plus extra_flags such as O_NOFOLLOW) and
 * fills *st. Returns the descriptor; -1 when open failed (errno set); -2
 * when it is not a regular file (nothing left open).
 */
int safefile_open(const char *path, int extra_flags, struct stat *st);

/* True when the mode lets users other than the owner in at all (ssh's rule for key files). */
bool safefile_loose(const struct stat *st);

#endif
