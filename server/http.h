/*
 * http.h - libmicrohttpd glue: the listening socket, per-request state,
 * body accumulation with the size cap, and answers. Nothing else in the
 * program includes microhttpd.h.
 */
#ifndef MGMTD_HTTP_H
#define MGMTD_HTTP_H

#include <stddef.h>

struct app;
struct http_server;

/*
 * Binds host:port (port 0 = any free port); nothing is served yet, so the
 * caller can learn the port (http_port) before the first request.
 * Returns 0, or -1 with a message in err.
 */
int http_bind(const char *host, unsigned port, struct http_server **out, char *err, size_t errlen);

/*
 * Takes a listening socket passed by the service manager (socket
 * activation) instead of binding one. Returns 0, or -1 with a message in err.
 */
int http_adopt(int fd, struct http_server **out, char *err, size_t errlen);

/* Makes srv a listener of [metrics] listen: it answers /metrics and 404 to the rest. */
void http_serve_metrics_only(struct http_server *srv);

/*
 * Starts the worker threads on a bound server; HTTPS with app->tls's
 * certificates when app->tls is set. Returns 0, or -1 with a message in err.
 */
int http_run(struct http_server *srv, struct app *app, char *err, size_t errlen);

/* The port actually bound. */
unsigned http_port(const struct http_server *srv);

/*
 * Stops accepting and lets requests in flight finish (up to drain_ms); the
 * threads go on serving what is open (a change the writer still holds is
 * resumed through them). NULL is fine.
 */
void http_drain(struct http_server *srv, int drain_ms);

/*
 * http_drain, then stops the threads and frees srv. A server that was bound
 * but never run is just closed. NULL is fine.
 */
void http_stop(struct http_server *srv, int drain_ms);

#endif
