#include "generate/generate.h"

#include "common/buf.h"
#include "generate/catalog.h"
#include "common/prng.h"
#include "common/rfc3339.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rb_gen {
    rb_gen_options opts;
    rb_prng rng;
    rb_gen_product *pool;
    int64_t last_time_ms;
    size_t next_product; /* sequential order: the next product to visit */
    rb_gen_counts counts;
    char key[32];
    rb_buf value; /* the current event */
    rb_buf desc;  /* scratch: the current description */
    rb_buf name;  /* scratch: the current name */
};

/* How a malformed event departs from a good one.  A zero value renders a
 * well-formed event. */
typedef struct corruption {
    bool omit_name;
    bool negative_price;
    const char *currency; /* replaces the product's code when not NULL */
    int wrong_type;       /* 0, or which field gets the wrong JSON type (1-6) */
} corruption;

#define WRONG_TYPE_VARIANTS 6

void rb_gen_options_init(rb_gen_options *opts) {
    opts->seed = 1;
    opts->products = 1000;
    opts->malformed = 0.0;
    opts->delete_share = 0.0;
    opts->sequential = false;
}

static bool is_fraction(double x) { return x >= 0.0 && x <= 1.0; } /* false for NaN */

rb_gen *rb_gen_new(const rb_gen_options *opts, rb_error *err) {
    if (opts->products < 1 || opts->products > 100000000)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "products: %zu is out of range 1..100000000", opts->products),
               NULL;
    if (!is_fraction(opts->malformed))
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "malformed: %g is not a fraction between 0 and 1", opts->malformed),
               NULL;
    if (!is_fraction(opts->delete_share))
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "delete share: %g is not a fraction between 0 and 1",
                            opts->delete_share),
               NULL;
    rb_gen *g = calloc(1, sizeof *g);
    if (!g) return rb_error_nomem(err, RB_STAGE_NONE, "event generator"), NULL;
    g->pool = calloc(opts->products, sizeof *g->pool);
    if (!g->pool) {
        free(g);
        return rb_error_nomem(err, RB_STAGE_NONE, "product pool"), NULL;
    }
    g->opts = *opts;
    rb_prng_seed(&g->rng, opts->seed);
    g->last_time_ms = INT64_MIN;
    rb_buf_init(&g->value);
    rb_buf_init(&g->desc);
    rb_buf_init(&g->name);
    return g;
}

void rb_gen_destroy(rb_gen *g) {
    if (!g) return;
    rb_buf_free(&g->value);
    rb_buf_free(&g->desc);
    rb_buf_free(&g->name);
    free(g->pool);
    free(g);
}

const rb_gen_counts *rb_gen_get_counts(const rb_gen *g) { return &g->counts; }

const char *rb_gen_malformed_name(rb_gen_malformed kind) {
    switch (kind) {
    case RB_GEN_WELL_FORMED: return "well_formed";
    case RB_GEN_BAD_NOT_JSON: return "not_json";
    case RB_GEN_BAD_TRUNCATED: return "truncated";
    case RB_GEN_BAD_UTF8: return "invalid_utf8";
    case RB_GEN_BAD_MISSING_NAME: return "missing_name";
    case RB_GEN_BAD_NEGATIVE_PRICE: return "negative_price";
    case RB_GEN_BAD_CURRENCY: return "bad_currency";
    case RB_GEN_BAD_WRONG_TYPE: return "wrong_type";
    case RB_GEN_MALFORMED_KINDS: break;
    }
    return "unknown";
}

const char *rb_gen_event_type_name(rb_gen_event_type type) {
    switch (type) {
    case RB_GEN_CREATED: return "created";
    case RB_GEN_UPDATED: return "updated";
    case RB_GEN_DELETED: return "deleted";
    }
    return "unknown";
}

/* ---- rendering ----------------------------------------------------------- */

static int put_key(rb_buf *b, const char *key) { return rb_buf_printf(b, ",\"%s\":", key); }

/* Bytes as they are: an invalid_utf8 event must reach the topic invalid. */
static int put_string_member(rb_buf *b, const char *key, const char *s, size_t len) {
    if (put_key(b, key) != 0) return -1;
    return rb_buf_json_bytes(b, s, len);
}

/* Writes one event.  `desc` is the description text to use (the caller
 * renders it, so that a malformed event can carry damaged bytes). */
static int render_event(rb_gen *g, const rb_gen_product *p, rb_gen_event_type type,
                        const corruption *c, const char *desc, size_t desc_len, rb_buf *out) {
    char when[RB_RFC3339_SIZE];
    rb_rfc3339_format(p->event_time_ms, when);
    rb_buf_reset(out);
    int rc = 0;
    if (c->wrong_type == 6) {
        /* The id as a number: "p-000042" becomes 42. */
        rc |= rb_buf_printf(out, "{\"product_id\":%ld", strtol(g->key + 2, NULL, 10));
    } else {
        rc |= rb_buf_puts(out, "{\"product_id\":");
        rc |= rb_buf_json_string(out, g->key, strlen(g->key));
    }
    rc |= rb_buf_printf(out, ",\"event_type\":\"%s\",\"event_time\":\"%s\"",
                        rb_gen_event_type_name(type), when);
    if (c->wrong_type == 1)
        rc |= rb_buf_printf(out, ",\"version\":\"%" PRIu32 "\"", p->version);
    else
        rc |= rb_buf_printf(out, ",\"version\":%" PRIu32, p->version);
    if (type == RB_GEN_DELETED) return rc | rb_buf_putc(out, '}');

    if (!c->omit_name) {
        rb_buf_reset(&g->name);
        rc |= rb_gen_catalog_name(p, &g->name);
        rc |= put_string_member(out, "name", g->name.data, g->name.len);
    }
    /* The description of an invalid_utf8 event carries its damaged bytes
     * raw: written as \xHH they would be valid text. */
    rc |= put_key(out, "description") | rb_buf_json_bytes(out, desc, desc_len);
    const char *cat = rb_gen_catalog_category(p);
    rc |= put_string_member(out, "category", cat, strlen(cat));
    const char *brand = rb_gen_catalog_brand(p);
    rc |= put_string_member(out, "brand", brand, strlen(brand));

    rc |= put_key(out, "price");
    if (c->wrong_type == 2) rc |= rb_buf_putc(out, '"');
    if (c->negative_price) rc |= rb_buf_putc(out, '-');
    rc |= rb_gen_catalog_price_json(p, out);
    if (c->wrong_type == 2) rc |= rb_buf_putc(out, '"');

    const char *cur = c->currency ? c->currency : rb_gen_catalog_currency(p);
    rc |= put_string_member(out, "currency", cur, strlen(cur));

    rc |= put_key(out, "tags");
    if (c->wrong_type == 4) {
        /* The list flattened into one string, as a careless exporter does. */
        rb_buf_reset(&g->name);
        rc |= rb_gen_catalog_tags_json(p, &g->name);
        rc |= rb_buf_putc(out, '"');
        for (size_t i = 0; i < g->name.len; i++) {
            char ch = g->name.data[i];
            if (ch == '"' || ch == '[' || ch == ']') continue;
            rc |= rb_buf_putc(out, ch);
        }
        rc |= rb_buf_putc(out, '"');
    } else {
        rc |= rb_gen_catalog_tags_json(p, out);
    }

    rc |= put_key(out, "in_stock");
    if (c->wrong_type == 3)
        rc |= rb_buf_puts(out, p->in_stock ? "\"yes\"" : "\"no\"");
    else
        rc |= rb_buf_puts(out, p->in_stock ? "true" : "false");

    rc |= put_key(out, "attributes");
    rc |= rb_gen_catalog_attributes_json(p, out);
    if (c->wrong_type == 5 && out->len > 0) {
        /* A numeric attribute value where only strings are allowed. */
        out->len--;
        rc |= rb_buf_printf(out, ",\"warranty_years\":%d}", (int)(p->desc_seed % 5) + 1);
    }
    return rc | rb_buf_putc(out, '}');
}

static int render_description(rb_gen *g, const rb_gen_product *p) {
    rb_buf_reset(&g->desc);
    return rb_gen_catalog_description(p, &g->desc);
}

/* Byte sequences that are not UTF-8: a stray continuation byte, a lead
 * byte without its continuation, an overlong '/', an encoded surrogate,
 * a code point above U+10FFFF, and a Latin-1 'é'. */
static const char *const bad_utf8[] = {"\x80",         "\xc3\x28",         "\xc0\xaf",
                                       "\xed\xa0\x80", "\xf4\x90\x80\x80", "caf\xe9"};

static int insert_bad_bytes(rb_gen *g) {
    const char *bad = bad_utf8[rb_prng_below(&g->rng, sizeof bad_utf8 / sizeof bad_utf8[0])];
    size_t blen = strlen(bad);
    /* Insert at the first word boundary past the middle. */
    size_t at = g->desc.len / 2;
    while (at < g->desc.len && g->desc.data[at] != ' ') at++;
    if (rb_buf_reserve(&g->desc, blen + 1) != 0) return -1;
    memmove(g->desc.data + at + blen + 1, g->desc.data + at, g->desc.len - at + 1);
    g->desc.data[at] = ' ';
    memcpy(g->desc.data + at + 1, bad, blen);
    g->desc.len += blen + 1;
    return 0;
}

static int render_not_json(rb_gen *g, const rb_gen_product *p, rb_gen_event_type type) {
    char when[RB_RFC3339_SIZE], price[32];
    rb_rfc3339_format(p->event_time_ms, when);
    rb_buf pb;
    rb_buf_init(&pb);
    int rc = rb_gen_catalog_price_json(p, &pb);
    snprintf(price, sizeof price, "%s", pb.data ? pb.data : "0");
    rb_buf_free(&pb);
    const char *t = rb_gen_event_type_name(type);
    const char *cur = rb_gen_catalog_currency(p);
    rb_buf_reset(&g->value);
    switch (rb_prng_below(&g->rng, 5)) {
    case 0:
        rc |= rb_buf_printf(&g->value, "product %s %s at %s: price %s %s", g->key, t, when, price,
                            cur);
        break;
    case 1:
        rc |= rb_buf_printf(&g->value, "<product id=\"%s\" event=\"%s\" price=\"%s\"/>", g->key, t,
                            price);
        break;
    case 2:
        rc |= rb_buf_printf(&g->value, "%s,%s,%s,%" PRIu32 ",%s,%s", g->key, t, when, p->version,
                            price, cur);
        break;
    case 3:
        rc |= rb_buf_printf(&g->value,
                            "{'product_id': '%s', 'event_type': '%s', 'version': %" PRIu32 "}",
                            g->key, t, p->version);
        break;
    default:
        rc |= rb_buf_printf(&g->value, "product_id=%s&event_type=%s&price=%s&currency=%s", g->key,
                            t, price, cur);
        break;
    }
    return rc;
}

static int render_malformed(rb_gen *g, const rb_gen_product *p, rb_gen_event_type type,
                            rb_gen_malformed kind, size_t *len) {
    static const char *const bad_currencies[] = {"usd", "EURO", "US", "", "E1R", "$"};
    corruption c = {0};
    if (kind == RB_GEN_BAD_NOT_JSON) {
        if (render_not_json(g, p, type) != 0) return -1;
        *len = g->value.len;
        return 0;
    }
    if (render_description(g, p) != 0) return -1;
    switch (kind) {
    case RB_GEN_BAD_UTF8:
        if (insert_bad_bytes(g) != 0) return -1;
        break;
    case RB_GEN_BAD_MISSING_NAME: c.omit_name = true; break;
    case RB_GEN_BAD_NEGATIVE_PRICE: c.negative_price = true; break;
    case RB_GEN_BAD_CURRENCY:
        c.currency = bad_currencies[rb_prng_below(&g->rng, sizeof bad_currencies /
                                                               sizeof bad_currencies[0])];
        break;
    case RB_GEN_BAD_WRONG_TYPE:
        c.wrong_type = 1 + (int)rb_prng_below(&g->rng, WRONG_TYPE_VARIANTS);
        break;
    default: break;
    }
    if (render_event(g, p, type, &c, g->desc.data, g->desc.len, &g->value) != 0) return -1;
    *len = g->value.len;
    if (kind == RB_GEN_BAD_TRUNCATED) {
        /* Any proper prefix of a JSON object is invalid; cut somewhere in
         * the back three quarters, as a failed write would. */
        *len =
            (size_t)rb_prng_range(&g->rng, (int64_t)(g->value.len / 4), (int64_t)g->value.len - 1);
        if (*len == 0) *len = 1;
    }
    return 0;
}

int rb_gen_next(rb_gen *g, int64_t time_ms, rb_gen_event *ev, rb_error *err) {
    if (time_ms < g->last_time_ms) time_ms = g->last_time_ms;
    g->last_time_ms = time_ms;

    size_t idx;
    if (g->opts.sequential) {
        idx = g->next_product;
        g->next_product = (g->next_product + 1) % g->opts.products;
    } else {
        idx = (size_t)rb_prng_below(&g->rng, g->opts.products);
    }
    rb_gen_product *p = &g->pool[idx];
    snprintf(g->key, sizeof g->key, "p-%06zu", idx);

    rb_gen_malformed kind = RB_GEN_WELL_FORMED;
    if (rb_prng_chance(&g->rng, g->opts.malformed))
        kind = (rb_gen_malformed)(1 + rb_prng_below(&g->rng, RB_GEN_MALFORMED_KINDS - 1));

    /* The event is computed on a copy; only a well-formed one is kept. */
    rb_gen_product next = *p;
    rb_gen_event_type type;
    bool text_changed = true;
    if (p->version == 0 || p->deleted) {
        type = RB_GEN_CREATED;
        rb_gen_catalog_create(&g->rng, &next);
    } else if (kind == RB_GEN_WELL_FORMED && rb_prng_chance(&g->rng, g->opts.delete_share)) {
        /* Malformed events always carry a full body, so never deletes. */
        type = RB_GEN_DELETED;
        text_changed = false;
    } else {
        type = RB_GEN_UPDATED;
        text_changed = rb_gen_catalog_mutate(&g->rng, &next);
    }
    next.version = p->version + 1;
    next.deleted = type == RB_GEN_DELETED;
    next.event_time_ms = time_ms;

    size_t len = 0;
    int rc;
    if (kind != RB_GEN_WELL_FORMED) {
        rc = render_malformed(g, &next, type, kind, &len);
    } else if (type == RB_GEN_DELETED) {
        corruption none = {0};
        rc = render_event(g, &next, type, &none, NULL, 0, &g->value);
        len = g->value.len;
    } else {
        corruption none = {0};
        rc = render_description(g, &next);
        if (rc == 0)
            rc = render_event(g, &next, type, &none, g->desc.data, g->desc.len, &g->value);
        len = g->value.len;
    }
    if (rc != 0) return rb_error_nomem(err, RB_STAGE_NONE, "generated event");

    g->counts.produced++;
    if (kind != RB_GEN_WELL_FORMED) {
        g->counts.malformed++;
        g->counts.by_kind[kind]++;
    } else {
        *p = next;
        if (type == RB_GEN_CREATED)
            g->counts.created++;
        else if (type == RB_GEN_UPDATED)
            g->counts.updated++;
        else
            g->counts.deleted++;
    }
    ev->key = g->key;
    ev->key_len = strlen(g->key);
    ev->value = g->value.data;
    ev->value_len = len;
    ev->malformed = kind;
    ev->type = type;
    ev->version = next.version;
    ev->text_changed = text_changed;
    return 0;
}

/* ---- manifest ------------------------------------------------------------ */

static int manifest_line(rb_gen *g, size_t idx, const rb_gen_product *p, rb_buf *line) {
    char id[32], when[RB_RFC3339_SIZE];
    snprintf(id, sizeof id, "p-%06zu", idx);
    rb_rfc3339_format(p->event_time_ms, when);
    int rc = rb_buf_printf(line,
                           "{\"product_id\":\"%s\",\"version\":%" PRIu32
                           ",\"deleted\":%s,\"event_time\":\"%s\"",
                           id, p->version, p->deleted ? "true" : "false", when);
    if (p->deleted) return rc | rb_buf_puts(line, "}\n");
    rc |= rb_buf_puts(line, ",\"price\":");
    rc |= rb_gen_catalog_price_json(p, line);
    rc |= rb_buf_printf(line, ",\"currency\":\"%s\",\"in_stock\":%s,\"text_fields\":{\"name\":",
                        rb_gen_catalog_currency(p), p->in_stock ? "true" : "false");
    rb_buf_reset(&g->name);
    rc |= rb_gen_catalog_name(p, &g->name);
    rc |= rb_buf_json_string(line, g->name.data, g->name.len);
    rc |= render_description(g, p);
    rc |= put_string_member(line, "description", g->desc.data, g->desc.len);
    const char *cat = rb_gen_catalog_category(p), *brand = rb_gen_catalog_brand(p);
    rc |= put_string_member(line, "category", cat, strlen(cat));
    rc |= put_string_member(line, "brand", brand, strlen(brand));
    rc |= put_key(line, "tags");
    rc |= rb_gen_catalog_tags_json(p, line);
    rc |= put_key(line, "attributes");
    rc |= rb_gen_catalog_attributes_json(p, line);
    return rc | rb_buf_puts(line, "}}\n");
}

int rb_gen_write_manifest(rb_gen *g, FILE *out, const char *what, rb_error *err) {
    rb_buf line;
    rb_buf_init(&line);
    uint64_t products = 0, live = 0, deleted = 0;
    int rc = 0;
    for (size_t i = 0; i < g->opts.products && rc == 0; i++) {
        const rb_gen_product *p = &g->pool[i];
        if (p->version == 0) continue;
        products++;
        if (p->deleted)
            deleted++;
        else
            live++;
        rb_buf_reset(&line);
        if (manifest_line(g, i, p, &line) != 0) {
            rb_buf_free(&line);
            return rb_error_nomem(err, RB_STAGE_NONE, "manifest line");
        }
        if (fwrite(line.data, 1, line.len, out) != line.len) rc = -1;
    }
    if (rc == 0) {
        const rb_gen_counts *c = &g->counts;
        rb_buf_reset(&line);
        int mrc = rb_buf_printf(&line,
                                "{\"summary\":{\"produced\":%" PRIu64 ",\"well_formed\":%" PRIu64
                                ",\"created\":%" PRIu64 ",\"updated\":%" PRIu64
                                ",\"deleted\":%" PRIu64 ",\"malformed\":{\"total\":%" PRIu64,
                                c->produced, c->produced - c->malformed, c->created, c->updated,
                                c->deleted, c->malformed);
        for (int k = 1; k < RB_GEN_MALFORMED_KINDS; k++)
            mrc |= rb_buf_printf(&line, ",\"%s\":%" PRIu64,
                                 rb_gen_malformed_name((rb_gen_malformed)k), c->by_kind[k]);
        mrc |= rb_buf_printf(&line,
                             "},\"products\":%" PRIu64 ",\"products_live\":%" PRIu64
                             ",\"products_deleted\":%" PRIu64 "}}\n",
                             products, live, deleted);
        if (mrc != 0) {
            rb_buf_free(&line);
            return rb_error_nomem(err, RB_STAGE_NONE, "manifest summary");
        }
        if (fwrite(line.data, 1, line.len, out) != line.len) rc = -1;
    }
    rb_buf_free(&line);
    if (rc != 0 || fflush(out) != 0 || ferror(out))
        return rb_error_set(err, RB_ERR_IO, RB_STAGE_NONE, "%s: cannot write the manifest",
                            what ? what : "manifest");
    return 0;
}
