/*
 * http_server.h -- the HTTP/1.1 plumbing the in-process test servers share
 * (the embeddings server, the schema registry server): a loopback listener,
 * a thread per connection reading requests (head + Content-Length body,
 * keep-alive), and a handler the server supplies.
 *
 * The handler runs on connection threads, several at once: it keeps its
 * own locking and writes its whole response with hs_send_all().  hs_stop()
 * stops accepting, closes the listener and waits (up to 2 s) for the
 * connection threads, which notice the stop within one poll interval.
 */
#ifndef HS_HTTP_SERVER_H
#define HS_HTTP_SERVER_H

#include <stddef.h>

typedef void (*hs_handler)(void *ctx, int fd, const char *head, const char *body, size_t body_len);

typedef struct hs_server hs_server;

/* Listens on 127.0.0.1:`port` (0: any free port).  NULL on failure. */
hs_server *hs_start(int port, hs_handler handler, void *ctx);
int hs_port(const hs_server *s);
void hs_stop(hs_server *s); /* accepts NULL */

/* Writes all `n` bytes; -1 if the peer went away. */
int hs_send_all(int fd, const char *p, size_t n);

/* Copies the value of header `name` (case-insensitive) of `head` into
 * `out`; returns 1 if present. */
int hs_header(const char *head, const char *name, char *out, size_t size);

#endif
