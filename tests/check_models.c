/* The tiny reference models of tests/data/models/ (scripts/make-test-models.py):
 * an XLM-RoBERTa encoder with a SentencePiece Unigram tokenizer.json
 * (Precompiled charsmap, Metaspace), a BERT encoder with a WordPiece
 * tokenizer.json only and weightedmean pooling, and a Unigram tokenizer.json
 * with NFKC and byte fallback.  Token ids must equal those of the Hugging
 * Face tokenizers exactly, and vectors those of sentence-transformers to a
 * cosine of 0.9999, on multilingual text (CJK, Cyrillic, Arabic,
 * Devanagari, Thai, accents, emoji, controls, literal special tokens). */
#include "check_main.h"
#include "common/error.h"
#include "embed/bert/model_config.h"
#include "embed/bert/tokenizer.h"
#include "embed/embedder.h"
#include "json/json.h"
#include "model_edit.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA RB_SOURCE_DIR "/tests/data/models"

typedef struct ref {
    char model[32];
    char *text;
    size_t text_len; /* the text may hold U+0000 */
    size_t max_len;
    int32_t *ids;
    size_t n_ids;
    float *vec; /* NULL for tokenizer-only fixtures */
    size_t dim;
} ref;

static ref *refs;
static size_t n_refs;

static void load_refs(void) {
    FILE *f = fopen(DATA "/reference.jsonl", "rb");
    ck_assert_msg(f != NULL, "cannot open %s", DATA "/reference.jsonl");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    n_refs = 0;
    refs = NULL;
    while ((len = getline(&line, &cap, f)) > 0) {
        rb_json_doc *doc = NULL;
        rb_error err;
        rb_error_clear(&err);
        ck_assert_msg(rb_json_parse(line, (size_t)len, NULL, &doc, &err) == 0, "%s", err.msg);
        const rb_json *r = rb_json_doc_root(doc);
        refs = realloc(refs, (n_refs + 1) * sizeof *refs);
        ck_assert_ptr_nonnull(refs);
        ref *x = &refs[n_refs++];
        memset(x, 0, sizeof *x);
        snprintf(x->model, sizeof x->model, "%s", rb_json_string(rb_json_get(r, "model")));
        const rb_json *text = rb_json_get(r, "text"), *ids = rb_json_get(r, "ids");
        const rb_json *emb = rb_json_get(r, "embedding");
        x->text = malloc(text->str_len + 1);
        memcpy(x->text, text->str, text->str_len + 1);
        x->text_len = text->str_len;
        x->max_len = (size_t)rb_json_get(r, "max_len")->integer;
        x->n_ids = ids->count;
        x->ids = malloc((ids->count + 1) * sizeof *x->ids);
        for (size_t i = 0; i < ids->count; i++) x->ids[i] = (int32_t)ids->items[i].integer;
        if (emb) {
            x->dim = emb->count;
            x->vec = malloc(emb->count * sizeof *x->vec);
            for (size_t i = 0; i < emb->count; i++) x->vec[i] = (float)emb->items[i].number;
        }
        rb_json_doc_destroy(doc);
    }
    free(line);
    fclose(f);
    ck_assert_uint_ge(n_refs, 90);
}

static void free_refs(void) {
    for (size_t i = 0; i < n_refs; i++) {
        free(refs[i].text);
        free(refs[i].ids);
        free(refs[i].vec);
    }
    free(refs);
}

static char *ids_str(const int32_t *ids, size_t n) {
    static char buf[2][4096];
    static int k;
    char *b = buf[k ^= 1];
    b[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(b + strlen(b), sizeof buf[0] - strlen(b), " %d", (int)ids[i]);
    return b;
}

/* Every reference text of `model` through `t`: the same ids, and the
 * count of tokens between the special tokens agrees with them. */
static size_t check_ids(const rb_tokenizer *t, const char *model) {
    size_t checked = 0, truncated = 0;
    for (size_t i = 0; i < n_refs; i++) {
        const ref *x = &refs[i];
        if (strcmp(x->model, model) != 0) continue;
        int32_t ids[512];
        size_t n = 0, count = 0;
        rb_error err;
        rb_error_clear(&err);
        ck_assert_int_eq(rb_tokenizer_encode(t, x->text, x->text_len, x->max_len, ids, &n, &err),
                         0);
        ck_assert_msg(n == x->n_ids && memcmp(ids, x->ids, n * sizeof *ids) == 0,
                      "%s: \"%.50s\"\n  got [%s ]\n want [%s ]", model, x->text, ids_str(ids, n),
                      ids_str(x->ids, x->n_ids));
        ck_assert_int_eq(rb_tokenizer_count(t, x->text, x->text_len, &count, &err), 0);
        if (n < x->max_len)
            ck_assert_uint_eq(count + rb_tokenizer_special_count(t), n);
        else
            truncated++;
        checked++;
    }
    ck_assert_uint_ge(checked, 30);
    ck_assert_uint_ge(truncated, 3); /* the fixture exercises truncation */
    return checked;
}

START_TEST(unigram_precompiled_ids_match_transformers) {
    load_refs();
    rb_error err;
    rb_error_clear(&err);
    size_t max_seq = 0;
    rb_tokenizer *t = rb_model_tokenizer_load(DATA "/xlmr-tiny", &max_seq, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_uint_eq(max_seq, 48);
    ck_assert_uint_eq(rb_tokenizer_special_count(t), 2);
    check_ids(t, "xlmr-tiny");
    rb_tokenizer_destroy(t);
    free_refs();
}
END_TEST

START_TEST(unigram_nfkc_byte_fallback_ids_match_transformers) {
    load_refs();
    rb_error err;
    rb_error_clear(&err);
    rb_tokenizer *t = rb_tokenizer_new_from_json(DATA "/unigram-nfkc/tokenizer.json", false, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    check_ids(t, "unigram-nfkc");
    /* Byte fallback is used: some text yields <0xHH> pieces. */
    int32_t ids[64];
    size_t n = 0;
    ck_assert_int_eq(rb_tokenizer_encode(t, "\xe1\x9a\xa0", 3, 64, ids, &n, &err), 0);
    ck_assert_uint_eq(n, 2 + 1 + 3); /* <s> ▁ <0xE1> <0x9A> <0xA0> </s> */
    ck_assert_str_eq(rb_tokenizer_token(t, ids[2]), "<0xE1>");
    rb_tokenizer_destroy(t);
    free_refs();
}
END_TEST

START_TEST(wordpiece_tokenizer_json_ids_match_transformers) {
    load_refs();
    rb_error err;
    rb_error_clear(&err);
    size_t max_seq = 0;
    char vocab[512];
    snprintf(vocab, sizeof vocab, "%s", DATA "/bert-tiny/vocab.txt");
    ck_assert_msg(access(vocab, F_OK) != 0, "bert-tiny must have no vocab.txt");
    rb_tokenizer *t = rb_model_tokenizer_load(DATA "/bert-tiny", &max_seq, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_uint_eq(max_seq, 40);
    check_ids(t, "bert-tiny");
    rb_tokenizer_destroy(t);
    free_refs();
}
END_TEST

static double cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

/* Embeds the model's reference texts (those a C string can carry) in one
 * batch with `threads` and `kernel`, and checks each vector. */
static void check_vectors(const char *model, int threads, const char *kernel) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", DATA, model);
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = dir;
    o.threads = threads;
    o.batch_size = 8;
    o.kernel = kernel;
    rb_error err;
    rb_error_clear(&err);
    rb_embedder *e = rb_embedder_local_new(&o, &err);
    ck_assert_msg(e != NULL, "%s: %s", model, err.msg);
    const char *texts[128];
    const ref *which[128];
    size_t n = 0;
    for (size_t i = 0; i < n_refs && n < 128; i++)
        if (strcmp(refs[i].model, model) == 0 && strlen(refs[i].text) == refs[i].text_len) {
            texts[n] = refs[i].text;
            which[n++] = &refs[i];
        }
    ck_assert_uint_ge(n, 25);
    size_t dim = which[0]->dim;
    ck_assert_uint_eq(rb_embedder_dim(e), dim);
    float *out = malloc(n * dim * sizeof *out);
    ck_assert_int_eq(rb_embedder_embed(e, texts, n, out, &err), 0);
    for (size_t i = 0; i < n; i++) {
        double c = cosine(out + i * dim, which[i]->vec, dim);
        ck_assert_msg(c >= 0.9999, "%s (%d threads, %s): \"%.40s\": cosine %.7f", model, threads,
                      kernel ? kernel : "default", texts[i], c);
    }
    free(out);
    rb_embedder_destroy(e);
}

START_TEST(xlm_roberta_vectors_match_sentence_transformers) {
    load_refs();
    check_vectors("xlmr-tiny", 1, NULL);
    check_vectors("xlmr-tiny", 2, NULL);
    check_vectors("xlmr-tiny", 1, "builtin");
    free_refs();
}
END_TEST

START_TEST(weightedmean_bert_vectors_match_sentence_transformers) {
    load_refs();
    check_vectors("bert-tiny", 1, NULL);
    check_vectors("bert-tiny", 2, "builtin");
    free_refs();
}
END_TEST

/* A prefix (e5's "query: ") is embedded as if written before the text,
 * and is part of the model name so that vectors made without it are not
 * taken for equal. */
START_TEST(a_prefix_is_part_of_the_text_and_of_the_name) {
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = DATA "/xlmr-tiny";
    o.threads = 1;
    rb_error err;
    rb_error_clear(&err);
    rb_embedder *e = rb_embedder_local_new(&o, &err);
    ck_assert_msg(e != NULL, "%s", err.msg);
    const char *plain[2] = {"query: Доставка по всей России", "query: 東京の倉庫"};
    const char *bare[2] = {"Доставка по всей России", "東京の倉庫"};
    float a[2 * 32], b[2 * 32];
    ck_assert_int_eq(rb_embedder_embed(e, plain, 2, a, &err), 0);
    ck_assert_str_eq(rb_embedder_model_name(e), "xlmr-tiny");
    ck_assert_int_eq(rb_embedder_set_prefix(e, "query: ", &err), 0);
    ck_assert_str_eq(rb_embedder_model_name(e), "xlmr-tiny prefix=\"query: \"");
    ck_assert_int_eq(rb_embedder_embed(e, bare, 2, b, &err), 0);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    ck_assert_int_eq(rb_embedder_set_prefix(e, "", &err), 0);
    ck_assert_str_eq(rb_embedder_model_name(e), "xlmr-tiny");
    ck_assert_int_eq(rb_embedder_embed(e, bare, 2, b, &err), 0);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
    rb_embedder_destroy(e);
}
END_TEST

/* ---- refusals ------------------------------------------------------------ */

static char scratch[64];

/* Copies one file, or writes `data` when given. */
static void put(const char *rel, const char *from, const char *data) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch, rel);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    if (data) {
        fputs(data, f);
    } else {
        FILE *in = fopen(from, "rb");
        ck_assert_msg(in != NULL, "cannot read %s", from);
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, in)) > 0) ck_assert_uint_eq(fwrite(buf, 1, k, f), k);
        fclose(in);
    }
    fclose(f);
}

/* A copy of xlmr-tiny's small files in a scratch directory. */
static void make_scratch(void) {
    snprintf(scratch, sizeof scratch, "/tmp/rb_models_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
    char b[512];
    snprintf(b, sizeof b, "%s/1_Pooling", scratch);
    ck_assert_int_eq(mkdir(b, 0700), 0);
    snprintf(b, sizeof b, "%s/2_Normalize", scratch);
    ck_assert_int_eq(mkdir(b, 0700), 0);
    static const char *const files[] = {"config.json",           "tokenizer_config.json",
                                        "modules.json",          "sentence_bert_config.json",
                                        "1_Pooling/config.json", "2_Normalize/config.json",
                                        "tokenizer.json",        "model.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(b, sizeof b, "%s/xlmr-tiny/%s", DATA, files[i]);
        put(files[i], b, NULL);
    }
}

static void remove_scratch(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(refusals_name_file_and_part) {
    make_scratch();
    model_refuses_edit(scratch, "tokenizer.json", "\"type\": \"Metaspace\"",
                       "\"type\": \"ByteLevel\"", "tokenizer.json",
                       "pre_tokenizer \"ByteLevel\" is not supported");
    model_refuses_edit(scratch, "tokenizer.json", "\"Regex\": \" {2,}\"", "\"Regex\": \"[a-z]+\"",
                       "tokenizer.json", "Replace pattern /[a-z]+/ is not supported");
    model_refuses_edit(scratch, "tokenizer.json", "\"type\": \"Unigram\"", "\"type\": \"BPE\"",
                       "tokenizer.json", "model type \"BPE\" is not supported");
    model_refuses_edit(scratch, "tokenizer.json", "\"precompiled_charsmap\": \"",
                       "\"precompiled_charsmap\": \"!", "tokenizer.json",
                       "precompiled_charsmap is not base64");
    model_refuses_edit(scratch, "config.json", "\"xlm-roberta\"", "\"deberta-v2\"", "config.json",
                       "model_type \"deberta-v2\" is not supported");
    model_edit(scratch, "1_Pooling/config.json", "\"pooling_mode_mean_tokens\": true",
               "\"pooling_mode_mean_tokens\": false");
    model_edit(scratch, "1_Pooling/config.json", "\"pooling_mode_lasttoken\": false",
               "\"pooling_mode_lasttoken\": true");
    model_expect_load_error(scratch, "1_Pooling/config.json",
                            "pooling_mode_lasttoken is not supported");
    put("1_Pooling/config.json", NULL,
        "{\"embedding_dimension\": 32, \"pooling_mode\": [\"mean\", \"max\"]}");
    model_expect_load_error(scratch, "1_Pooling/config.json", "a list of modes");
    put("1_Pooling/config.json", NULL, "{\"embedding_dimension\": 32, \"pooling_mode\": \"max\"}");
    model_refuses_edit(scratch, "sentence_bert_config.json", "48", "65",
                       "sentence_bert_config.json", "less pad_token_id + 1");
    /* And with all that put back, it loads again. */
    model_expect_loads(scratch);
    remove_scratch();
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("models");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, unigram_precompiled_ids_match_transformers);
    tcase_add_test(tc, unigram_nfkc_byte_fallback_ids_match_transformers);
    tcase_add_test(tc, wordpiece_tokenizer_json_ids_match_transformers);
    tcase_add_test(tc, xlm_roberta_vectors_match_sentence_transformers);
    tcase_add_test(tc, weightedmean_bert_vectors_match_sentence_transformers);
    tcase_add_test(tc, a_prefix_is_part_of_the_text_and_of_the_name);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("refusals");
    tcase_add_test(te, refusals_name_file_and_part);
    suite_add_tcase(s, te);
    return s;
}
