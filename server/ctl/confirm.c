/*
 * confirm.c - the y/N question before a revoke or a delete.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"

bool ctl_confirm(bool force, const char *question)
{
	char answer[64];
	size_t n;

	if (force)
		return true;
	if (!isatty(STDIN_FILENO)) {
		out_error("not confirmed: there is no terminal to ask on (stdin is not one); add "
		          "--force to go ahead");
		return false;
	}
	fflush(stdout);
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin)) {
		fputc('\n', stderr);
		out_error("no answer: nothing was changed");
		return false;
	}
	n = strcspn(answer, "\r\n");
	answer[n] = '\0';
	if (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0 ||
	    strcmp(answer, "YES") == 0 || strcmp(answer, "Yes") == 0)
		return true;
	out_error("not confirmed: nothing was changed");
	return false;
}
