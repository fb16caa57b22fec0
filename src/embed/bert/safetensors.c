#include "embed/bert/safetensors.h"

#include "json/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unistd.h>

struct rb_safetensors {
    char *path;
    const unsigned char *map;
    size_t size;
    rb_json_doc *header;
    rb_st_tensor *tensors;
    size_t n;
};

void rb_safetensors_release(const rb_safetensors *st, const void *p, size_t len) {
    const unsigned char *b = p;
    if (!st || !st->map || b < st->map || b + len > st->map + st->size) return;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    uintptr_t start = ((uintptr_t)b + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = ((uintptr_t)b + len) & ~((uintptr_t)page - 1);
    /* Advice only: a failure changes memory use, never results. */
    if (end > start) (void)madvise((void *)start, end - start, MADV_DONTNEED);
}

float rb_half_to_float(unsigned short h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13); /* inf / NaN */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {
        /* Subnormal half: renormalise into a normal float. */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float rb_bf16_to_float(unsigned short h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static size_t dtype_size(const char *name, rb_st_dtype *dt) {
    static const struct {
        const char *name;
        rb_st_dtype dt;
        size_t size;
    } table[] = {{"F32", RB_ST_F32, 4},    {"F16", RB_ST_F16, 2},   {"BF16", RB_ST_BF16, 2},
                 {"F64", RB_ST_OTHER, 8},  {"I64", RB_ST_OTHER, 8}, {"I32", RB_ST_OTHER, 4},
                 {"I16", RB_ST_OTHER, 2},  {"I8", RB_ST_OTHER, 1},  {"U8", RB_ST_OTHER, 1},
                 {"BOOL", RB_ST_OTHER, 1}, {"U16", RB_ST_OTHER, 2}, {"U32", RB_ST_OTHER, 4},
                 {"U64", RB_ST_OTHER, 8}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) {
            *dt = table[i].dt;
            return table[i].size;
        }
    return 0;
}

void rb_safetensors_destroy(rb_safetensors *st) {
    if (!st) return;
    if (st->map) munmap((void *)st->map, st->size);
    rb_json_doc_destroy(st->header);
    free(st->tensors);
    free(st->path);
    free(st);
}

static rb_safetensors *st_fail(rb_safetensors *st, rb_error *err, const char *what) {
    if (what) rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: %s", st->path, what);
    rb_safetensors_destroy(st);
    return NULL;
}

/* Fills one tensor from its header entry; `data0` is where the data region
 * begins and `dlen` its length. */
static int parse_tensor(rb_safetensors *st, const rb_json_member *m, size_t data0, size_t dlen,
                        rb_st_tensor *t, rb_error *err) {
    const rb_json *v = m->value;
    const char *dtype = rb_json_string(rb_json_get(v, "dtype"));
    const rb_json *shape = rb_json_get(v, "shape");
    const rb_json *offs = rb_json_get(v, "data_offsets");
    if (v->type != RB_JSON_OBJECT || !dtype || !shape || shape->type != RB_JSON_ARRAY || !offs ||
        offs->type != RB_JSON_ARRAY || offs->count != 2)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: header entry \"%s\" needs dtype, shape and data_offsets",
                            st->path, m->key);
    size_t esize = dtype_size(dtype, &t->dtype);
    if (esize == 0)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: tensor \"%s\": unknown dtype %s", st->path, m->key, dtype);
    if (shape->count > RB_ST_MAX_DIMS)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: tensor \"%s\": too many dimensions", st->path, m->key);
    size_t elems = 1;
    for (size_t i = 0; i < shape->count; i++) {
        const rb_json *d = &shape->items[i];
        if (d->type != RB_JSON_NUMBER || !d->is_integer || d->integer < 0 ||
            (uint64_t)d->integer > SIZE_MAX / 16 ||
            (d->integer > 0 && elems > SIZE_MAX / 16 / (size_t)d->integer))
            return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: tensor \"%s\": bad shape",
                                st->path, m->key);
        t->shape[i] = (size_t)d->integer;
        elems *= t->shape[i];
    }
    const rb_json *b = &offs->items[0], *e = &offs->items[1];
    if (b->type != RB_JSON_NUMBER || e->type != RB_JSON_NUMBER || !b->is_integer ||
        !e->is_integer || b->integer < 0 || e->integer < b->integer || (uint64_t)e->integer > dlen)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: tensor \"%s\": data_offsets outside the file", st->path, m->key);
    size_t nbytes = (size_t)(e->integer - b->integer);
    if (nbytes != elems * esize)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: tensor \"%s\": %zu bytes for a %s tensor of %zu elements",
                            st->path, m->key, nbytes, dtype, elems);
    t->name = m->key;
    t->dtype_name = dtype;
    t->ndim = shape->count;
    t->data = st->map + data0 + (size_t)b->integer;
    t->nbytes = nbytes;
    return 0;
}

rb_safetensors *rb_safetensors_open(const char *path, rb_error *err) {
    rb_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        rb_error_nomem(err, RB_STAGE_EMBED, path);
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: cannot open the weights: %s", path,
                     strerror(errno));
        return st_fail(st, err, NULL);
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return st_fail(st, err, "not a regular file");
    }
    if (sb.st_size < 8) {
        close(fd);
        return st_fail(st, err, "too short for a safetensors file");
    }
    st->size = (size_t)sb.st_size;
    void *map = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: mmap failed: %s", path,
                     strerror(errno));
        return st_fail(st, err, NULL);
    }
    st->map = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | st->map[i];
    if (hlen == 0 || hlen > st->size - 8 || hlen > (100u << 20))
        return st_fail(st, err, "header length is out of range (not a safetensors file?)");
    if (rb_json_parse((const char *)st->map + 8, (size_t)hlen, NULL, &st->header, err) < 0) {
        rb_error_prefix(err, "%s: header", path);
        if (err) {
            err->code = RB_ERR_MODEL;
            err->stage = RB_STAGE_EMBED;
        }
        return st_fail(st, err, NULL);
    }
    const rb_json *root = rb_json_doc_root(st->header);
    if (root->type != RB_JSON_OBJECT) return st_fail(st, err, "header is not a JSON object");
    st->tensors = calloc(root->count ? root->count : 1, sizeof *st->tensors);
    if (!st->tensors) {
        rb_error_nomem(err, RB_STAGE_EMBED, path);
        return st_fail(st, err, NULL);
    }
    size_t data0 = 8 + (size_t)hlen, dlen = st->size - data0;
    for (size_t i = 0; i < root->count; i++) {
        const rb_json_member *m = &root->members[i];
        if (strcmp(m->key, "__metadata__") == 0) continue;
        if (parse_tensor(st, m, data0, dlen, &st->tensors[st->n], err) < 0)
            return st_fail(st, err, NULL);
        st->n++;
    }
    return st;
}

size_t rb_safetensors_count(const rb_safetensors *st) { return st->n; }
const char *rb_safetensors_path(const rb_safetensors *st) { return st->path; }

const rb_st_tensor *rb_safetensors_at(const rb_safetensors *st, size_t i) {
    return i < st->n ? &st->tensors[i] : NULL;
}

const rb_st_tensor *rb_safetensors_find(const rb_safetensors *st, const char *name) {
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

int rb_safetensors_f32(const rb_safetensors *st, const char *name, size_t ndim,
                       const size_t *shape, const float **data, float **owned, rb_error *err) {
    *data = NULL;
    *owned = NULL;
    const rb_st_tensor *t = rb_safetensors_find(st, name);
    if (!t)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: tensor \"%s\" is missing",
                            st->path, name);
    bool same = t->ndim == ndim;
    for (size_t i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char want[128] = "", got[128] = "";
        size_t wl = 0, gl = 0;
        for (size_t i = 0; i < ndim && wl < sizeof want; i++)
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "%s%zu", i ? "," : "", shape[i]);
        for (size_t i = 0; i < t->ndim && gl < sizeof got; i++)
            gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%zu", i ? "," : "", t->shape[i]);
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: tensor \"%s\" has shape [%s], config.json implies [%s]", st->path,
                            name, got, want);
    }
    size_t elems = 1;
    for (size_t i = 0; i < ndim; i++) elems *= shape[i];
    if (t->dtype == RB_ST_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
        *data = t->data;
        return 0;
    }
    if (t->dtype == RB_ST_OTHER)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: tensor \"%s\" is %s; only F32, F16 and BF16 are supported",
                            st->path, name, t->dtype_name);
    float *buf = malloc((elems ? elems : 1) * sizeof *buf);
    if (!buf) return rb_error_nomem(err, RB_STAGE_EMBED, name);
    const unsigned char *p = t->data;
    for (size_t i = 0; i < elems; i++) {
        if (t->dtype == RB_ST_F32) {
            memcpy(&buf[i], p + 4 * i, 4);
        } else {
            /* safetensors stores little-endian values. */
            unsigned short h = (unsigned short)(p[2 * i] | (p[2 * i + 1] << 8));
            buf[i] = t->dtype == RB_ST_F16 ? rb_half_to_float(h) : rb_bf16_to_float(h);
        }
    }
    *data = buf;
    *owned = buf;
    return 0;
}
