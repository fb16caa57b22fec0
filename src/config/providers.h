/*
 * providers.h -- references in job-file values, as Kafka Connect's config
 * providers write them (private to the config module):
 *
 *   ${NAME}, ${env:NAME}     the environment variable NAME (EnvVarConfigProvider)
 *   ${file:PATH:KEY}         KEY of the java.util.Properties file PATH
 *                            (FileConfigProvider; properties.h)
 *   ${directory:DIR:FILE}    the whole content of the file DIR/FILE
 *                            (DirectoryConfigProvider: a Kubernetes secret
 *                            mounted as a directory), as it is
 *   $${                      a literal "${" (an escape of ragbatch's own;
 *                            Connect has none)
 *
 * As in Connect, the provider is what comes before the first ':', the path
 * what comes before the next one, and the key the rest.  A relative PATH or
 * DIR is resolved against the directory of the file that holds the
 * reference (`base_dir`; NULL: the working directory).  A variable that is
 * not set, a file that cannot be read, a key the file does not have and a
 * provider not listed here are errors naming the key and the reference:
 * an empty credential would fail later, far from its cause.
 */
#ifndef RB_CONFIG_PROVIDERS_H
#define RB_CONFIG_PROVIDERS_H

#include "common/buf.h"
#include "common/error.h"

/* Expands every reference of `value` into `out` (reset first).  `where`
 * ("jobs/x.job:12") and `key` name the setting in errors. */
int rb_config_expand(const char *value, const char *base_dir, const char *where, const char *key,
                     rb_buf *out, rb_error *err);

#endif
