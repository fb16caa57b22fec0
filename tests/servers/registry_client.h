/*
 * registry_client.h -- what a producer does with a Schema Registry, for the
 * tests: register a JSON schema under a subject, and frame a payload in the
 * wire format (magic byte 0, 4-byte big-endian schema id, payload).
 */
#ifndef RS_REGISTRY_CLIENT_H
#define RS_REGISTRY_CLIENT_H

#include <stddef.h>

/* Registers `schema` under `subject` at 127.0.0.1:`port`; returns the id the
 * registry assigned (fails the current test otherwise). */
unsigned rs_register_schema(int port, const char *user_info, const char *subject,
                            const char *schema);

/* As rs_register_schema, to the registry at `base_url` (e.g.
 * "http://127.0.0.1:PORT/apis/ccompat/v7"; a trailing '/' is dropped). */
unsigned rs_register_schema_url(const char *base_url, const char *user_info, const char *subject,
                                const char *schema);

/* As rs_register_schema_url, with its schemaType ("JSON", "AVRO"). */
unsigned rs_register_typed(const char *base_url, const char *user_info, const char *subject,
                           const char *type, const char *schema);

/* Writes the framed `json` into `out` and returns its length. */
size_t rs_frame(unsigned id, const char *json, char *out, size_t size);

#endif
