/* http.c - the HTTP server over libmicrohttpd (see http.h).
 *
 * The listening socket is made here, not by libmicrohttpd, so that a port in use
 * or a host that does not resolve is reported with its cause; libmicrohttpd then
 * runs one thread of its own over it and logs nothing (lib never prints). */
#include "ops/http.h"
#include "base/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/banned.h"

#define CONNECTION_LIMIT 64
#define CONNECTION_TIMEOUT_S 30

struct sq_http {
	struct MHD_Daemon *d;
	sq_http_handler handler;
	void *ctx;
	int fd;
	char *url;
};

struct sq_http_req {
	struct MHD_Connection *c;
	const char *method, *path;
};

static const char csp[] = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
			  "script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const char *sq_http_method(const struct sq_http_req *r)
{
	return r->method;
}

const char *sq_http_path(const struct sq_http_req *r)
{
	return r->path;
}

const char *sq_http_arg(const struct sq_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *sq_http_header(const struct sq_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

/* ---- addresses ---- */

int sq_http_parse_addr(const char *addr, char **host, int *port, struct sq_err *err)
{
	const char *colon = strrchr(addr, ':'), *p;
	char *end;
	long v;

	if (addr[0] == '[') { /* [v6]:port */
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return sq_error(err, SQ_ERR_INVALID, "bad listen address '%s'", addr);
		*host = xstrndup(addr + 1, (size_t)(close - addr - 1));
		p = close + 2;
	} else if (colon) {
		*host =
		    colon == addr ? xstrdup("127.0.0.1") : xstrndup(addr, (size_t)(colon - addr));
		p = colon + 1;
	} else {
		*host = xstrdup("127.0.0.1");
		p = addr;
	}
	errno = 0;
	v = strtol(p, &end, 10);
	if (!*p || *end || errno || v < 0 || v > 65535 || !**host) {
		free(*host);
		*host = NULL;
		return sq_error(err, SQ_ERR_INVALID,
				"bad listen address '%s' (PORT, HOST:PORT or "
				"[IPv6]:PORT)",
				addr);
	}
	*port = (int)v;
	return 0;
}

/* A listening socket on host:port; -1 with err naming the address. */
static int listen_on(const char *host, int port, int *v6, struct sq_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV},
			*res = NULL;
	char service[16];
	int fd = -1, one = 1, rc;

	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0)
		return sq_error(err, SQ_ERR_INVALID, "cannot listen on '%s': %s", host,
				gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		sq_error_errno(err, errno, "cannot listen on %s port %d", host, port);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return fd;
}

/* "http://host:port/" for the bound socket. */
static char *url_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			port = ntohs(a->sin6_port);
			return xasprintf("http://[%s]:%d/", ip, port);
		}
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	return xasprintf("http://%s:%d/", ip, port);
}

/* ---- answering ---- */

static struct MHD_Response *make_response(struct sq_http_resp *r)
{
	if (r->fd >= 0) {
		struct MHD_Response *m = MHD_create_response_from_fd((uint64_t)r->fd_len, r->fd);

		if (!m)
			close(r->fd);
		return m;
	}
	if (r->body)
		return MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
	return MHD_create_response_from_buffer(r->len, (void *)(uintptr_t)r->data,
					       MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct sq_http_resp *r)
{
	struct MHD_Response *m = make_response(r);
	enum MHD_Result ret;

	if (!m)
		return MHD_NO;
	MHD_add_response_header(m, "Content-Type", r->type ? r->type : "text/plain; charset=utf-8");
	MHD_add_response_header(m, "Cache-Control", r->cache ? r->cache : "no-store");
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(m, "X-Frame-Options", "DENY");
	MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(m, "Content-Security-Policy", csp);
	ret = MHD_queue_response(c, (unsigned)(r->status ? r->status : 200), m);
	MHD_destroy_response(m);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	static int seen;
	struct sq_http *h = cls;
	struct sq_http_req req = {.c = c, .method = method, .path = url};
	struct sq_http_resp resp = {.fd = -1};
	static const char not_allowed[] = "method not allowed\n";

	(void)version;
	(void)upload;
	if (!*state) { /* headers only so far */
		*state = &seen;
		return MHD_YES;
	}
	if (*upload_size) { /* a POST body: every argument is in the query */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "POST") != 0) {
		resp.status = 405;
		resp.data = not_allowed;
		resp.len = sizeof(not_allowed) - 1;
		return send_response(c, &resp);
	}
	h->handler(h->ctx, &req, &resp);
	return send_response(c, &resp);
}

static void quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

struct sq_http *sq_http_start(const struct sq_http_opts *o, struct sq_err *err)
{
	struct sq_http *h;
	char *host;
	int port, v6 = 0, fd;

	if (sq_http_parse_addr(o->addr, &host, &port, err) < 0)
		return NULL;
	fd = listen_on(host, port, &v6, err);
	free(host);
	if (fd < 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->handler = o->handler;
	h->ctx = o->ctx;
	h->fd = fd;
	h->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | (v6 ? MHD_USE_IPv6 : 0), 0, NULL,
				NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
				MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL, MHD_OPTION_END);
	if (!h->d) {
		close(fd);
		free(h);
		sq_error(err, SQ_ERR_IO, "cannot start the http server");
		return NULL;
	}
	h->url = url_of(fd);
	return h;
}

const char *sq_http_url(const struct sq_http *h)
{
	return h->url;
}

void sq_http_stop(struct sq_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* closes the listening socket too */
	free(h->url);
	free(h);
}
