/*
 * registry_server.h -- a test server implementing the part of the
 * Confluent Schema Registry REST API that ragbatch uses, on a loopback
 * port, for tests/check_registry.c only:
 *
 *   POST /subjects/{subject}/versions  {"schemaType":"JSON","schema":"..."}
 *        -> {"id": N}  (the same schema text and type get the same id, as
 *           in Confluent's registry); schemaType AVRO, or none (Confluent's
 *           default), registers Avro schema text (stored as given, not
 *           parsed: ragbatch's parser is what the tests exercise)
 *   GET  /schemas/ids/{id}
 *        -> {"schema":"...","schemaType":"JSON"}, or {"schema":"..."} for
 *           an Avro schema (Confluent leaves schemaType out for Avro), or
 *           404 with Confluent's error body
 *           {"error_code":40403,"message":"Schema not found"}
 *
 * rs_server_start_at serves the same API under a base path instead, as
 * Apicurio Registry serves its Confluent-compatible API under
 * /apis/ccompat/v7; a path outside it is answered 404 with the body
 * Confluent's registry gives an unknown path,
 * {"error_code":404,"message":"HTTP 404 Not Found"} (no 40403).
 *
 * With a user_info set, every request must carry the matching
 * "Authorization: Basic ..." header or is answered 401.  rs_stats counts
 * GETs per id and keeps the last Authorization header, behind the
 * server's mutex.  One thread per connection, HTTP/1.1 keep-alive,
 * Content-Length bodies.
 */
#ifndef RS_REGISTRY_SERVER_H
#define RS_REGISTRY_SERVER_H

#include <stddef.h>

typedef struct rs_stats {
    size_t gets;         /* GET /schemas/ids/... requests, answered or not */
    size_t posts;        /* POST /subjects/.../versions */
    size_t unauthorized; /* requests answered 401 */
    char last_auth[256]; /* last Authorization header ("" if none) */
} rs_stats;

typedef struct rs_server rs_server;

/* Starts on 127.0.0.1, any free port.  `user_info` ("user:password") may
 * be NULL for no auth.  Returns NULL on failure. */
rs_server *rs_server_start(const char *user_info);
/* As rs_server_start, the API under `base_path` (e.g. "/apis/ccompat/v7",
 * no trailing '/'; "" or NULL for the root). */
rs_server *rs_server_start_at(const char *user_info, const char *base_path);
int rs_server_port(const rs_server *s);
void rs_server_stats(rs_server *s, rs_stats *out);
/* GETs of schema `id` so far. */
size_t rs_server_gets_of(rs_server *s, unsigned id);
void rs_server_stop(rs_server *s); /* accepts NULL; closes the port */

#endif
