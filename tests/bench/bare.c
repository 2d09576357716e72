/*
 * bare.c - the ceiling of the HTTP stack: libmicrohttpd with the flags, thread
 * pool, timeout and two-call handler pattern of server/http.c, answering every
 * request with one fixed JSON body (the size of a management-token object) and
 * the same headers mgmtd sends. `make bench` measures mgmtd against it.
 *
 * usage: bare PORT [THREADS]   (THREADS 0 or absent = number of CPUs, as mgmtd)
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] =
    "{\"id\":\"6e5d4c3b-2a19-4876-9543-210fedcba987\",\"accountId\":"
    "\"11111111-1111-4111-8111-111111111111\",\"description\":\"bench\",\"tokenPrefix\":"
    "\"M.V1.abcd\",\"status\":\"active\",\"createdAt\":\"2026-11-27T18:00:00.000Z\","
    "\"createdBy\":\"9a82c565-e9a1-4991-acde-edf4094e446f\"}";

static int first_call_marker;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) { /* like mgmtd: nothing is answered on the first call */
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	resp =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	unsigned port, threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t set;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: bare PORT [THREADS]\n");
		return 2;
	}
	port = (unsigned)atoi(argv[1]);
	threads = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	if (threads == 0)
		threads = cpus > 0 ? (unsigned)cpus : 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
	    (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "bare: cannot start on port %u\n", port);
		return 1;
	}
	printf("listening on http://127.0.0.1:%u with %u threads\n", port, threads);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
