/*
 * version.h - what this build is and which libraries it runs with
 * (`mgmtd version`, `mgmtd --version`, the log line at start).
 */
#ifndef MGMTD_VERSION_H
#define MGMTD_VERSION_H

#include <stdio.h>

/* "0.1.0": the Makefile's VERSION. */
const char *version_string(void);

/*
 * Prints "mgmtd VERSION", then one line per library: the version running
 * (where the library can say) and the one built against.
 */
void version_print(FILE *out);

#endif
