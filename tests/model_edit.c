/* model_edit.c -- see model_edit.h. */
#include "model_edit.h"

#include "common/error.h"
#include "embed/embedder.h"
#include "spawn.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void model_edit(const char *dir, const char *file, const char *from, const char *to) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *s = spawn_slurp(path, NULL);
    char *at = strstr(s, from);
    ck_assert_msg(at != NULL, "%s has no '%s'", path, from);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    size_t head = (size_t)(at - s), tail = strlen(at + strlen(from));
    ck_assert(fwrite(s, 1, head, f) == head);
    ck_assert(fputs(to, f) >= 0);
    ck_assert(fwrite(at + strlen(from), 1, tail, f) == tail);
    ck_assert_int_eq(fclose(f), 0);
    free(s);
}

/* The local embedder on `dir`, one thread. */
static rb_embedder *load(const char *dir, rb_error *err) {
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = dir;
    o.threads = 1;
    rb_error_clear(err);
    return rb_embedder_local_new(&o, err);
}

void model_expect_load_error(const char *dir, const char *needle1, const char *needle2) {
    rb_error err;
    rb_embedder *e = load(dir, &err);
    ck_assert_msg(e == NULL, "loading succeeded, expected an error about %s", needle1);
    ck_assert_int_eq(err.code, RB_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, needle1) && (!needle2 || strstr(err.msg, needle2)),
                  "message '%s' lacks '%s' / '%s'", err.msg, needle1, needle2 ? needle2 : "");
}

void model_refuses_edit(const char *dir, const char *file, const char *from, const char *to,
                        const char *needle1, const char *needle2) {
    model_edit(dir, file, from, to);
    model_expect_load_error(dir, needle1, needle2);
    model_edit(dir, file, to, from);
}

void model_expect_loads(const char *dir) {
    rb_error err;
    rb_embedder *e = load(dir, &err);
    ck_assert_msg(e != NULL, "loading %s failed: %s", dir, err.msg);
    rb_embedder_destroy(e);
}
