/*
 * catalog.h -- what a synthetic product looks like: word lists and text.
 *
 * A product's content is held as a handful of small indices into static
 * word lists plus two sub-seeds (description, tags), so a pool of a million
 * products costs tens of megabytes, not gigabytes; the texts are rendered
 * from that state on demand and are the same every time they are rendered.
 * Word lists are grouped by category (footwear words never describe a
 * kitchen knife), so the texts read like real catalogue entries and a
 * semantic search over them has something to find.
 *
 * Rendering appends to an rb_buf and returns 0, or -1 when memory runs out
 * (the buffer may then hold part of the text).  Nothing here keeps
 * pointers to its arguments; returned strings are static.
 */
#ifndef RB_GEN_CATALOG_H
#define RB_GEN_CATALOG_H

#include "common/buf.h"
#include "common/prng.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct rb_gen_product {
    uint32_t version; /* last well-formed version; 0 = never created */
    bool deleted;     /* the last well-formed event deleted it */
    bool in_stock;
    uint8_t category;
    uint8_t noun;
    uint8_t material;
    uint8_t color;
    uint8_t adjective;
    uint8_t attr_value;
    uint8_t origin;
    uint8_t currency;
    uint16_t brand;
    uint16_t series;
    int64_t price_cents;   /* in hundredths of the currency's unit, >= 0 */
    uint64_t desc_seed;    /* drives the description's sentences */
    uint64_t tag_seed;     /* drives the tag list */
    int64_t event_time_ms; /* time of the last well-formed event */
} rb_gen_product;

/* Gives `p` fresh random content (version, deleted, event time untouched). */
void rb_gen_catalog_create(rb_prng *r, rb_gen_product *p);

/* Applies one realistic update: a price change or a stock change (text
 * unchanged), or a new description, tags or name (text changed).  Returns
 * true if a text field (name, description, tags) changed. */
bool rb_gen_catalog_mutate(rb_prng *r, rb_gen_product *p);

/* Plain UTF-8 text, appended without quoting. */
int rb_gen_catalog_name(const rb_gen_product *p, rb_buf *out);
int rb_gen_catalog_description(const rb_gen_product *p, rb_buf *out); /* 20-60 words */

const char *rb_gen_catalog_category(const rb_gen_product *p);
const char *rb_gen_catalog_brand(const rb_gen_product *p);
const char *rb_gen_catalog_currency(const rb_gen_product *p); /* "USD", "EUR", ... */

/* JSON fragments: the price as a number with two decimals ("129.99"), the
 * tags as an array of strings, the attributes as an object of strings. */
int rb_gen_catalog_price_json(const rb_gen_product *p, rb_buf *out);
int rb_gen_catalog_tags_json(const rb_gen_product *p, rb_buf *out);
int rb_gen_catalog_attributes_json(const rb_gen_product *p, rb_buf *out);

/* Counts words (runs of non-space bytes) in `s`; used by tests and by the
 * description builder to stay within its length bounds. */
size_t rb_gen_catalog_word_count(const char *s, size_t len);

#endif
