/* http.h - a small HTTP server (libmicrohttpd is wrapped here, once).
 *
 * One thread of the server's own answers requests one at a time, so a handler
 * needs no locking of its own state. Requests are GET, HEAD or POST (a POST
 * body is read and dropped: every argument travels in the query string). Every
 * response carries headers that keep a browser from guessing types or loading
 * anything from elsewhere (X-Content-Type-Options, a Content-Security-Policy
 * of 'self', no referrer). */
#ifndef SQ_HTTP_H
#define SQ_HTTP_H

#include "base/err.h"

#include <stddef.h>

struct sq_http;
struct sq_http_req;

/* The request's method ("GET", "HEAD", "POST") and path (decoded, no query). */
const char *sq_http_method(const struct sq_http_req *r);
const char *sq_http_path(const struct sq_http_req *r);
/* A query argument or a header (case-insensitive name), or NULL. Borrowed,
 * valid during the handler. */
const char *sq_http_arg(const struct sq_http_req *r, const char *name);
const char *sq_http_header(const struct sq_http_req *r, const char *name);

struct sq_http_resp {
	int status;	   /* 0: 200 */
	const char *type;  /* Content-Type; NULL: text/plain; charset=utf-8 */
	const char *cache; /* Cache-Control; NULL: no-store */
	char *body;	   /* owned: freed by the server; or NULL */
	const void *data;  /* or borrowed bytes that live as long as the server */
	size_t len;	   /* of body or data */
	int fd;		   /* or a file to send, taken (closed by the server); -1 none */
	long long fd_len;  /* its size in bytes */
};

/* Fills resp (init'ed with fd -1, everything else 0) for req. */
typedef void (*sq_http_handler)(void *ctx, const struct sq_http_req *req,
				struct sq_http_resp *resp);

struct sq_http_opts {
	const char *addr; /* see sq_http_parse_addr */
	sq_http_handler handler;
	void *ctx;
};

/* Parses a listen address: "PORT", ":PORT", "HOST:PORT" (an IPv4 address or a
 * name that resolves to one, e.g. localhost), "[IPv6]:PORT". No host means
 * 127.0.0.1: the console is local unless told otherwise. Port 0: any free one.
 * Fills *host (new string) and *port; -1 with SQ_ERR_INVALID otherwise. */
int sq_http_parse_addr(const char *addr, char **host, int *port, struct sq_err *err);

/* Starts listening and answering in a thread of its own. Returns new server
 * (stop with sq_http_stop) or NULL. */
struct sq_http *sq_http_start(const struct sq_http_opts *o, struct sq_err *err);
/* The URL it answers on, e.g. "http://127.0.0.1:8080/" (borrowed). */
const char *sq_http_url(const struct sq_http *h);
/* Stops answering (waits for the request being answered) and frees h. */
void sq_http_stop(struct sq_http *h);

#endif
