/*
 * check_chunk.c -- the chunker (src/transform/chunk.h) with the real
 * all-MiniLM-L6-v2 vocabulary (models/, scripts/fetch-model.sh): where it
 * cuts, the overlap, CJK and emoji, one 1 MB word, determinism, and every
 * chunk's token count against the tokenizer itself.
 */
#include "check_main.h"
#include "common/buf.h"
#include "common/error.h"
#include "embed/bert/model_config.h"
#include "embed/bert/tokenizer.h"
#include "transform/chunk.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODEL_DIR RB_MODEL_DIR

static rb_tokenizer *tok;
static size_t model_max_seq;

static void setup(void) {
    rb_error err;
    ck_assert_msg(access(MODEL_DIR "/vocab.txt", R_OK) == 0,
                  "model missing: %s -- run scripts/fetch-model.sh first", MODEL_DIR);
    tok = rb_model_tokenizer_load(MODEL_DIR, &model_max_seq, &err);
    ck_assert_msg(tok != NULL, "%s", err.msg);
}

static void teardown(void) {
    rb_tokenizer_destroy(tok);
    tok = NULL;
}

static size_t count(const char *s, size_t len) {
    size_t n = 0;
    rb_error err;
    ck_assert_msg(rb_tokenizer_count(tok, s, len, &n, &err) == 0, "%s", err.msg);
    return n;
}

static bool is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

static size_t code_points(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* What holds for every split: in order, inside the text, on character
 * boundaries, char spans matching byte spans, every token count equal to
 * the tokenizer's for the chunk's text and within the limit (so encoding
 * the chunk truncates nothing), progress from chunk to chunk, and nothing
 * but white space left out between chunks. */
static void check_invariants(const rb_chunk_opts *o, const char *text, size_t len,
                             const rb_chunk *c, size_t n) {
    ck_assert_uint_ge(n, 1);
    size_t covered = 0;
    int32_t *ids = malloc((o->max_tokens + 2) * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_le(c[i].start, c[i].end);
        ck_assert_uint_le(c[i].end, len);
        ck_assert_msg(c[i].start == len || ((unsigned char)text[c[i].start] & 0xC0) != 0x80,
                      "chunk %zu starts inside a UTF-8 sequence", i);
        ck_assert_msg(c[i].end == len || ((unsigned char)text[c[i].end] & 0xC0) != 0x80,
                      "chunk %zu ends inside a UTF-8 sequence", i);
        ck_assert_uint_eq(c[i].char_start, code_points(text, c[i].start));
        ck_assert_uint_eq(c[i].char_end - c[i].char_start,
                          code_points(text + c[i].start, c[i].end - c[i].start));
        if (o->tokenizer) {
            size_t want = count(text + c[i].start, c[i].end - c[i].start);
            ck_assert_msg(c[i].tokens == want, "chunk %zu: %zu tokens counted, tokenizer says %zu",
                          i, c[i].tokens, want);
            size_t n_ids = 0;
            rb_error err;
            ck_assert(rb_tokenizer_encode(tok, text + c[i].start, c[i].end - c[i].start,
                                          o->max_tokens + 2, ids, &n_ids, &err) == 0);
            if (n > 1) ck_assert_uint_eq(n_ids, c[i].tokens + 2);
        }
        if (n > 1) ck_assert_uint_le(c[i].tokens, o->max_tokens);
        if (i > 0) {
            ck_assert_uint_gt(c[i].start, c[i - 1].start);
            ck_assert_uint_gt(c[i].end, c[i - 1].end);
        }
        for (size_t k = covered; k < c[i].start; k++)
            ck_assert_msg(is_ws((unsigned char)text[k]), "byte %zu left out of every chunk", k);
        if (c[i].end > covered) covered = c[i].end;
    }
    for (size_t k = covered; k < len; k++)
        ck_assert_msg(is_ws((unsigned char)text[k]), "byte %zu after the last chunk", k);
    free(ids);
}

static rb_chunk *split(const rb_chunk_opts *o, const char *text, size_t *n) {
    rb_chunk *c = NULL;
    rb_error err;
    ck_assert_msg(rb_chunk_split(o, text, strlen(text), &c, n, &err) == 0, "%s", err.msg);
    check_invariants(o, text, strlen(text), c, *n);
    return c;
}

static const char *const WORDS[] = {"waterproof", "jacket", "with",    "sealed",      "seams",
                                    "and",        "a",      "hood",    "that",        "folds",
                                    "into",       "the",    "collar",  "lightweight", "breathable",
                                    "membrane",   "for",    "hiking",  "trail",       "running",
                                    "in",         "wet",    "weather", "pockets"};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

/* A deterministic sentence of `words` words. */
static void sentence(rb_buf *b, uint64_t *seed, size_t words) {
    for (size_t w = 0; w < words; w++) {
        *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
        const char *word = WORDS[(*seed >> 33) % NWORDS];
        if (w == 0) {
            char first[32];
            snprintf(first, sizeof first, "%s", word);
            first[0] = (char)(first[0] - 'a' + 'A');
            rb_buf_puts(b, first);
        } else {
            rb_buf_printf(b, " %s", word);
        }
    }
    rb_buf_puts(b, ".");
}

START_TEST(a_text_that_fits_is_one_chunk_of_the_whole_text) {
    rb_chunk_opts o = {tok, model_max_seq - 2, 0, 0};
    const char *text = "  Kestrel trail jacket.  Waterproof, with a hood.  ";
    size_t n;
    rb_chunk *c = split(&o, text, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(c[0].start, 0);
    ck_assert_uint_eq(c[0].end, strlen(text)); /* byte for byte: embedded as without chunking */
    ck_assert_uint_eq(c[0].tokens, count(text, strlen(text)));
    free(c);
    /* The empty text too. */
    c = split(&o, "", &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(c[0].end, 0);
    free(c);
}
END_TEST

START_TEST(the_default_limit_is_exactly_what_fits_the_model) {
    ck_assert_uint_eq(model_max_seq, 256);
    rb_chunk_opts o = {tok, model_max_seq - 2, 0, 0};
    rb_buf b;
    rb_buf_init(&b);
    uint64_t seed = 1;
    while (count(b.data ? b.data : "", b.len) < 254) {
        if (b.len) rb_buf_puts(&b, " ");
        sentence(&b, &seed, 1);
    }
    /* Exactly 254 tokens or just over: one chunk iff it fits. */
    size_t total = count(b.data, b.len), n;
    rb_chunk *c = split(&o, b.data, &n);
    ck_assert_uint_eq(n, total <= 254 ? 1 : 2);
    free(c);
    rb_buf_free(&b);
}
END_TEST

START_TEST(cuts_prefer_paragraphs_then_sentences) {
    rb_buf b;
    rb_buf_init(&b);
    uint64_t seed = 7;
    /* Paragraphs of three sentences of 12 words: about 40 tokens each. */
    for (int p = 0; p < 12; p++) {
        if (p) rb_buf_puts(&b, "\n\n");
        for (int s = 0; s < 3; s++) {
            if (s) rb_buf_puts(&b, " ");
            sentence(&b, &seed, 12);
        }
    }
    rb_chunk_opts o = {tok, 100, 0, 0};
    size_t n;
    rb_chunk *c = split(&o, b.data, &n);
    ck_assert_uint_ge(n, 5);
    for (size_t i = 0; i + 1 < n; i++) {
        /* Two paragraphs fit in 100 tokens: every cut is a paragraph break. */
        ck_assert_msg(c[i].end + 2 <= b.len && memcmp(b.data + c[i].end, "\n\n", 2) == 0,
                      "chunk %zu does not end at a paragraph: ...%.20s", i,
                      b.data + c[i].end - 10);
        ck_assert_uint_ge(c[i].tokens, 50);
    }
    free(c);
    /* Paragraphs larger than a chunk: cut at sentences. */
    o.max_tokens = 30;
    c = split(&o, b.data, &n);
    for (size_t i = 0; i + 1 < n; i++) {
        ck_assert_msg(b.data[c[i].end - 1] == '.', "chunk %zu does not end a sentence", i);
        ck_assert_msg(b.data[c[i + 1].start] >= 'A' && b.data[c[i + 1].start] <= 'Z',
                      "chunk %zu does not start a sentence", i + 1);
    }
    free(c);
    rb_buf_free(&b);
}
END_TEST

START_TEST(a_sentence_longer_than_a_chunk_is_cut_at_white_space) {
    rb_buf b;
    rb_buf_init(&b);
    uint64_t seed = 3;
    sentence(&b, &seed, 400);
    rb_chunk_opts o = {tok, 64, 0, 0};
    size_t n;
    rb_chunk *c = split(&o, b.data, &n);
    ck_assert_uint_ge(n, 6);
    for (size_t i = 0; i + 1 < n; i++) {
        ck_assert(b.data[c[i].end] == ' ');
        ck_assert(b.data[c[i + 1].start - 1] == ' ');
        ck_assert_uint_ge(c[i].tokens, 60); /* full, as words of 1-3 pieces allow */
    }
    free(c);
    rb_buf_free(&b);
}
END_TEST

START_TEST(overlap_repeats_the_last_words_within_its_budget) {
    rb_buf b;
    rb_buf_init(&b);
    uint64_t seed = 11;
    for (int s = 0; s < 60; s++) {
        if (s) rb_buf_puts(&b, " ");
        sentence(&b, &seed, 9);
    }
    rb_chunk_opts o = {tok, 80, 16, 0};
    size_t n;
    rb_chunk *c = split(&o, b.data, &n);
    ck_assert_uint_ge(n, 5);
    for (size_t i = 1; i < n; i++) {
        ck_assert_msg(c[i].start < c[i - 1].end, "chunk %zu does not overlap", i);
        size_t shared = count(b.data + c[i].start, c[i - 1].end - c[i].start);
        ck_assert_uint_ge(shared, 1);
        ck_assert_uint_le(shared, 16);
        ck_assert(b.data[c[i].start - 1] == ' '); /* starts at a word */
    }
    free(c);
    /* Without overlap the chunks are disjoint. */
    o.overlap_tokens = 0;
    c = split(&o, b.data, &n);
    for (size_t i = 1; i < n; i++) ck_assert_uint_gt(c[i].start, c[i - 1].end);
    free(c);
    rb_buf_free(&b);
}
END_TEST

START_TEST(cjk_without_spaces_is_cut_between_ideographs_at_sentence_ends) {
    /* Chinese has no spaces: the tokenizer isolates each ideograph, so
     * every ideograph boundary is a safe cut, and 。 ends a sentence. */
    const char *s = "防水夹克带有密封接缝和可折叠进领口的兜帽，适合雨天徒步和越野跑。";
    rb_buf b;
    rb_buf_init(&b);
    for (int i = 0; i < 40; i++) rb_buf_puts(&b, s);
    rb_chunk_opts o = {tok, 100, 0, 0};
    size_t n;
    rb_chunk *c = split(&o, b.data, &n);
    ck_assert_uint_ge(n, 12);
    for (size_t i = 0; i + 1 < n; i++)
        ck_assert_msg(memcmp(b.data + c[i].end - 3, "。", 3) == 0, "chunk %zu does not end at 。",
                      i);
    free(c);
    /* One endless sentence: cut between ideographs, never inside one. */
    rb_buf_reset(&b);
    for (int i = 0; i < 500; i++) rb_buf_puts(&b, "夹克");
    c = split(&o, b.data, &n);
    ck_assert_uint_eq(n, 10);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(c[i].tokens, 100);
    free(c);
    rb_buf_free(&b);
}
END_TEST

START_TEST(emoji_sequences_are_never_split) {
    /* Family (ZWJ sequence), thumbs up with a skin tone, flag, text. */
    const char *unit = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7"
                       "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"
                       "great jacket \xE2\x9D\xA4\xEF\xB8\x8F ";
    rb_buf b;
    rb_buf_init(&b);
    for (int i = 0; i < 200; i++) rb_buf_puts(&b, unit);
    /* And one run of emoji without any space, longer than a word may be. */
    for (int i = 0; i < 80; i++)
        rb_buf_puts(&b, "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xF0\x9F\x91\x8D\xF0\x9F\x8F"
                        "\xBD");
    rb_chunk_opts o = {tok, 40, 8, 0};
    size_t n;
    rb_chunk *c = split(&o, b.data, &n);
    ck_assert_uint_ge(n, 10);
    for (size_t i = 0; i < n; i++) {
        /* Never next to the zero-width joiner, never before a skin tone
         * modifier (U+1F3FB..U+1F3FF) or a variation selector (U+FE0F). */
        const unsigned char *e = (const unsigned char *)b.data + c[i].end;
        const unsigned char *st = (const unsigned char *)b.data + c[i].start;
        if (c[i].end < b.len) {
            ck_assert(!(e[0] == 0xE2 && e[1] == 0x80 && e[2] == 0x8D));
            ck_assert(!(e[0] == 0xF0 && e[1] == 0x9F && e[2] == 0x8F && e[3] >= 0xBB));
            ck_assert(!(e[0] == 0xEF && e[1] == 0xB8 && e[2] == 0x8F));
        }
        ck_assert(!(st[0] == 0xE2 && st[1] == 0x80 && st[2] == 0x8D));
    }
    free(c);
    rb_buf_free(&b);
}
END_TEST

START_TEST(a_one_megabyte_word_becomes_segments_or_a_clear_error) {
    size_t len = 1 << 20;
    char *w = malloc(len + 1);
    for (size_t i = 0; i < len; i++) w[i] = "abcdefghijklmnopqrstuvwxyz"[(i * 7 + i / 26) % 26];
    w[len] = '\0';
    /* Whole, WordPiece makes it one [UNK]: the tokenizer limit is a word of
     * 100 code points, so the chunker cuts it into 100-character segments
     * that each keep their word pieces. */
    rb_chunk_opts o = {tok, 254, 32, 0};
    size_t n;
    rb_chunk *c = split(&o, w, &n);
    ck_assert_uint_eq(n, (len + 99) / 100);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(c[i].start, i * 100); /* contiguous: no overlap across a forced cut */
        ck_assert_uint_gt(c[i].tokens, 1);
    }
    free(c);
    /* With a limit on the count, the record fails with a message that
     * says what to do. */
    o.max_count = 1000;
    rb_error err;
    c = (rb_chunk *)1;
    ck_assert_int_ne(rb_chunk_split(&o, w, len, &c, &n, &err), 0);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(err.code, RB_ERR_TRANSFORM);
    ck_assert_int_eq(err.stage, RB_STAGE_TRANSFORM);
    ck_assert_msg(strstr(err.msg, "text.chunk.max.count = 1000") != NULL, "%s", err.msg);
    free(w);
}
END_TEST

START_TEST(the_same_text_always_gives_the_same_chunks) {
    rb_buf b;
    rb_buf_init(&b);
    uint64_t seed = 5;
    for (int p = 0; p < 30; p++) {
        rb_buf_puts(&b, p % 3 ? " " : "\n\n");
        sentence(&b, &seed, 5 + (size_t)p % 17);
        rb_buf_puts(&b, " 防水夹克。 \xF0\x9F\x91\x8D");
    }
    rb_chunk_opts o = {tok, 50, 10, 0};
    size_t n1, n2;
    rb_chunk *a = split(&o, b.data, &n1);
    char *copy = strdup(b.data);
    rb_chunk *c = split(&o, copy, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(a, c, n1 * sizeof *a), 0);
    free(a);
    free(c);
    free(copy);
    rb_buf_free(&b);
}
END_TEST

START_TEST(approximate_counts_without_a_tokenizer) {
    rb_buf b;
    rb_buf_init(&b);
    uint64_t seed = 9;
    for (int s = 0; s < 50; s++) {
        if (s) rb_buf_puts(&b, " ");
        sentence(&b, &seed, 10);
    }
    rb_chunk_opts o = {NULL, 60, 0, 0};
    size_t n;
    rb_chunk *c = split(&o, b.data, &n);
    ck_assert_uint_ge(n, 3);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_le(c[i].tokens, 60);
        if (i + 1 < n) ck_assert(b.data[c[i].end - 1] == '.');
    }
    free(c);
    rb_buf_free(&b);
}
END_TEST

START_TEST(bad_options_are_refused) {
    rb_chunk_opts o = {tok, 10, 10, 0};
    rb_chunk *c;
    size_t n;
    rb_error err;
    ck_assert_int_ne(rb_chunk_split(&o, "x", 1, &c, &n, &err), 0);
    ck_assert_msg(strstr(err.msg, "overlap") != NULL, "%s", err.msg);
}
END_TEST

static Suite *chunk_suite(void) {
    Suite *s = suite_create("chunk");
    TCase *tc = tcase_create("chunk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_text_that_fits_is_one_chunk_of_the_whole_text);
    tcase_add_test(tc, the_default_limit_is_exactly_what_fits_the_model);
    tcase_add_test(tc, cuts_prefer_paragraphs_then_sentences);
    tcase_add_test(tc, a_sentence_longer_than_a_chunk_is_cut_at_white_space);
    tcase_add_test(tc, overlap_repeats_the_last_words_within_its_budget);
    tcase_add_test(tc, cjk_without_spaces_is_cut_between_ideographs_at_sentence_ends);
    tcase_add_test(tc, emoji_sequences_are_never_split);
    tcase_add_test(tc, a_one_megabyte_word_becomes_segments_or_a_clear_error);
    tcase_add_test(tc, the_same_text_always_gives_the_same_chunks);
    tcase_add_test(tc, approximate_counts_without_a_tokenizer);
    tcase_add_test(tc, bad_options_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

Suite *rb_check_suite(void) { return chunk_suite(); }
