/* version.c -- see version.h. */
#include "version/version.h"

#include "common/cpus.h"
#include "config.h"
#include "embed/bert/int8.h"
#include "embed/bert/matmul.h"
#include "ragbatch_commit.h"

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <mongoc/mongoc.h>
#include <utf8proc.h>
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

const char *rb_version_commit(void) { return RB_GIT_COMMIT; }

const char *rb_version_librdkafka(void) { return rd_kafka_version_str(); }

const char *rb_version_libmongoc(void) { return mongoc_get_version(); }

const char *rb_version_libcurl(void) { return curl_version_info(CURLVERSION_NOW)->version; }

const char *rb_version_utf8proc(void) { return utf8proc_version(); }

const char *rb_version_openblas(void) {
#ifdef HAVE_OPENBLAS
    return openblas_get_config();
#else
    return "none (the built-in kernel)";
#endif
}

void rb_version_print(FILE *out) {
    fprintf(out, "ragbatch %s (commit %s)\n", PACKAGE_VERSION, rb_version_commit());
    fprintf(out, "librdkafka %s\n", rb_version_librdkafka());
    fprintf(out, "libmongoc %s\n", rb_version_libmongoc());
    fprintf(out, "libcurl %s\n", rb_version_libcurl());
    fprintf(out, "utf8proc %s\n", rb_version_utf8proc());
    fprintf(out, "blas: %s\n", rb_version_openblas());
    fprintf(out, "embedding kernel: %s (this CPU and build: %s)\n",
            rb_matmul_kernel_name(rb_matmul_default_kernel()), rb_matmul_kernels_available());
    const char *missing = rb_q8_missing();
    if (missing)
        fprintf(out, "embedding precision: fp32 (int8 needs %s, which this CPU lacks)\n", missing);
    else
        fprintf(out, "embedding precision: fp32, int8 (AVX512-VNNI)\n");
    rb_cpus cpus = rb_cpus_available();
    char shown[160];
    rb_cpus_describe(&cpus, shown, sizeof shown);
    fprintf(out, "cpus: %s\n", shown);
}
