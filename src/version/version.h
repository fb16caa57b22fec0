/*
 * version.h -- what this ragbatch binary is made of, for `ragbatch --version`
 * and bug reports: the release, the source commit it was built from, the
 * versions of the libraries it runs with (read from the libraries at run
 * time, so a rebuilt shared library shows), and the embedding kernel and
 * precisions this CPU gets.
 *
 * The commit is fixed at build time (ragbatch_commit.h, written by the
 * Makefile from scripts/git-commit.sh): the RAGBATCH_COMMIT variable, the
 * .commit file a release tarball carries, or `git rev-parse`; "unknown"
 * when none is there.  A "-dirty" suffix means tracked files had changes.
 *
 * Every string returned is static; nothing here allocates or fails.
 */
#ifndef RB_VERSION_H
#define RB_VERSION_H

#include <stdio.h>

/* The commit the binary was built from ("3158fc3a1b2c", "...-dirty",
 * "unknown"). */
const char *rb_version_commit(void);

/* The run-time versions of the libraries, one per call ("2.0.2"). */
const char *rb_version_librdkafka(void);
const char *rb_version_libmongoc(void);
const char *rb_version_libcurl(void);
const char *rb_version_utf8proc(void);
/* OpenBLAS's build configuration ("OpenBLAS 0.3.21 DYNAMIC_ARCH ..."), or
 * "none (the built-in kernel)" in a build without it. */
const char *rb_version_openblas(void);

/* Writes the whole report, one fact a line:
 *   ragbatch 0.1.0 (commit 3158fc3a1b2c)
 *   librdkafka 2.0.2
 *   ...
 *   blas: OpenBLAS 0.3.21 ...
 *   embedding kernel: packed (this CPU and build: packed, openblas, builtin)
 *   embedding precision: fp32, int8 (AVX512-VNNI) */
void rb_version_print(FILE *out);

#endif
