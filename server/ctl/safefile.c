/*
 * safefile.c - opening a file that must be a regular file (safefile.h).
 */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int safefile_open(const char *path, int extra_flags, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | extra_flags);
	int flags;

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -2;
	}
	/* a regular file: reads may block as usual (O_NONBLOCK means nothing for one anyway) */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

bool safefile_loose(const struct stat *st)
{
	return (st->st_mode & 077) != 0;
}
