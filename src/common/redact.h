/*
 * redact.h -- the one place that knows what a credential looks like in
 * text, so that none reaches a log line, an error message, a DLQ header,
 * /readyz or `ragbatch check`.
 *
 * What is replaced by "***":
 *   - in a URI (scheme://...): the password of the user information
 *     (mongodb://user:***@host); for http(s) and ws(s) a user information
 *     without a password too (in https://TOKEN@host it is a token); the
 *     values of query and fragment parameters whose names hold credentials
 *     (password=, tlsCertificateKeyFilePassword=, token=, api_key=, key=,
 *     sig=, ...); inside any other parameter, NAME:VALUE properties whose
 *     NAME holds one (authMechanismProperties=AWS_SESSION_TOKEN:***);
 *   - in free text: NAME=VALUE, NAME = VALUE, NAME:VALUE, "NAME": "VALUE"
 *     and 'NAME': 'VALUE' when NAME holds a credential (sasl.password=,
 *     AWS_SESSION_TOKEN:, schema.registry.basic.auth.user.info = ...);
 *     "Bearer TOKEN"; PEM private-key blocks.
 * A name holds a credential when it contains password, passwd, secret,
 * credential, api_key/apikey/api-key, private_key, user.info/userinfo,
 * jaas.config or oauthbearer.config, or ends in token (session_token,
 * access_token, ...), or is pwd, pass or signature; matched without regard
 * to case.  URI parameters add key, auth, authorization and sig.
 *
 * Redaction never needs memory it cannot get: the fixed-buffer form works
 * on the caller's storage (truncating if "***" makes the text longer),
 * which is what the error and log paths use.
 */
#ifndef RB_REDACT_H
#define RB_REDACT_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends `len` bytes of `text` to `out`, credentials replaced.  Returns 0,
 * or -1 when memory runs out (`out` then keeps what it had). */
int rb_redact_append(rb_buf *out, const char *text, size_t len);

/* Writes the redacted NUL-terminated `text` into `out` (`size` bytes, always
 * NUL-terminated; cut to fit).  `text` and `out` must not overlap. */
void rb_redact_to(char *out, size_t size, const char *text);

/* Redacts the NUL-terminated string in `s` (capacity `size`) in place. */
void rb_redact_in_place(char *s, size_t size);

/* A malloc'ed redacted copy of `text`, or NULL when memory runs out. */
char *rb_redact_dup(const char *text);

/* True when a key, parameter or property called `name` (`len` bytes) holds
 * a credential, by the rule above (without the URI-only names). */
bool rb_redact_sensitive_name(const char *name, size_t len);

#endif
