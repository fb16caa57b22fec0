/*
 * schema_format.h -- the "format" assertions ragbatch checks.
 *
 *   date-time, date, time   RFC 3339 section 5.6 (date-time, full-date,
 *                           full-time), through common/rfc3339.h
 *   email                   RFC 5321 Mailbox without quoted local parts:
 *                           a dot-atom, "@", a hostname or [IPv4]/[IPv6:...]
 *   hostname                RFC 1123: labels of 1-63 letters, digits and
 *                           inner hyphens, 253 characters at most
 *   ipv4, ipv6              RFC 2673 dotted quad (no leading zeros), RFC 4291
 *                           text form (one "::", an IPv4 tail; no zone)
 *   uri, uri-reference      RFC 3986 (an absolute URI with a scheme; or any
 *                           URI or relative reference), %-escapes checked
 *   uuid                    RFC 4122 8-4-4-4-12 hexadecimal digits
 *   regex                   compiles as a pattern does (schema_pattern.h)
 *   json-pointer,           RFC 6901, and draft-handrews relative pointers
 *   relative-json-pointer
 *
 * All are pure functions of the string; safe from any thread.
 */
#ifndef RB_SCHEMA_FORMAT_H
#define RB_SCHEMA_FORMAT_H

#include "validate/schema_node.h"

#include <stdbool.h>
#include <stddef.h>

/* The format named `name`, or FORMAT_NONE when ragbatch does not check it. */
schema_format rb_schema_format_lookup(const char *name);

/* Formats the specifications define that ragbatch does not check (so that a
 * schema relying on one is refused rather than silently unchecked). */
bool rb_schema_format_is_unchecked(const char *name);

/* Whether NUL-terminated UTF-8 `s` (`len` bytes) is in format `f`. */
bool rb_schema_format_check(schema_format f, const char *s, size_t len);

/* A short description for messages ("an RFC 3339 date-time"). */
const char *rb_schema_format_describe(schema_format f);

#endif
