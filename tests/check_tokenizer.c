/* Unit tests for the BERT tokenizer (embed/bert/tokenizer.h) on a tiny
 * vocabulary built here, so that every expected id is known by hand. */
#include "check_main.h"
#include "common/error.h"
#include "embed/bert/tokenizer.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

/* id = index */
static const char *const vocab[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", /* 0-4 */
    "hello", "world", "un",    "##aff", "##able", /* 5-9 */
    "!",     ",",     ".",     "a",     "b",      /* 10-14 */
    "caf",   "##e",   "cafe",  "中",    "国",     /* 15-19 */
    "x",     "##x",   "$",     "¿",     "[",      /* 20-24 */
    "]",     "##é",   "i",     "##ı",   "e",      /* 25-29 */
};
#define NV (sizeof vocab / sizeof vocab[0])

static rb_tokenizer *make(const rb_tokenizer_opts *o) {
    rb_error err;
    rb_error_clear(&err);
    rb_tokenizer *t = rb_tokenizer_new(vocab, NV, o, "test vocab", &err);
    ck_assert_msg(t != NULL, "tokenizer: %s", err.msg);
    return t;
}

/* Encodes `text` (len bytes) and compares with the ids after -1. */
static void expect_len(const rb_tokenizer *t, const char *text, size_t len, size_t max_len, ...) {
    int32_t ids[512];
    size_t n = 0;
    rb_error err;
    rb_error_clear(&err);
    ck_assert_int_eq(rb_tokenizer_encode(t, text, len, max_len, ids, &n, &err), 0);
    int32_t want[512];
    size_t nw = 0;
    va_list ap;
    va_start(ap, max_len);
    for (int v; (v = va_arg(ap, int)) != -1;) want[nw++] = v;
    va_end(ap);
    char got_s[2048] = "", want_s[2048] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(got_s + strlen(got_s), sizeof got_s - strlen(got_s), " %d", (int)ids[i]);
    for (size_t i = 0; i < nw; i++)
        snprintf(want_s + strlen(want_s), sizeof want_s - strlen(want_s), " %d", (int)want[i]);
    ck_assert_msg(n == nw && memcmp(ids, want, n * sizeof *ids) == 0,
                  "\"%s\": got [%s ], want [%s ]", text, got_s, want_s);
}

#define EXPECT(t, text, ...) expect_len(t, text, strlen(text), 512, __VA_ARGS__, -1)

START_TEST(basic_words_and_punctuation) {
    rb_tokenizer *t = make(NULL);
    EXPECT(t, "Hello, World!", 2, 5, 11, 6, 10, 3);
    EXPECT(t, "  hello\t\n world  ", 2, 5, 6, 3);
    EXPECT(t, "", 2, 3);
    EXPECT(t, "   ", 2, 3);
    ck_assert_int_eq(rb_tokenizer_token_id(t, "cafe"), 17);
    ck_assert_str_eq(rb_tokenizer_token(t, 5), "hello");
    ck_assert_ptr_null(rb_tokenizer_token(t, (int32_t)NV));
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(wordpiece_greedy_longest_match) {
    rb_tokenizer *t = make(NULL);
    EXPECT(t, "unaffable", 2, 7, 8, 9, 3);
    /* "cafe" is a whole token, so it wins over caf + ##e. */
    EXPECT(t, "cafe", 2, 17, 3);
    EXPECT(t, "cafee", 2, 17, 16, 3);
    /* One piece that matches nothing makes the whole word unknown. */
    EXPECT(t, "unaffablez hello", 2, 1, 5, 3);
    EXPECT(t, "xxx", 2, 20, 21, 21, 3);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(lower_case_and_accents) {
    rb_tokenizer *t = make(NULL); /* uncased: lower-case + strip accents */
    EXPECT(t, "CAFÉ Café cafe\xcc\x81", 2, 17, 17, 17, 3);
    /* U+0130 (I with dot) decomposes to I + U+0307, which is stripped. */
    EXPECT(t, "\xc4\xb0", 2, 27, 3);
    rb_tokenizer_destroy(t);

    rb_tokenizer_opts o;
    rb_tokenizer_opts_default(&o);
    o.do_lower_case = false; /* cased: no lower-case, no stripping */
    t = make(&o);
    EXPECT(t, "Hello hello", 2, 1, 5, 3);
    EXPECT(t, "café", 2, 15, 26, 3);
    rb_tokenizer_destroy(t);

    rb_tokenizer_opts_default(&o);
    o.strip_accents = 0; /* lower-case but keep accents */
    t = make(&o);
    EXPECT(t, "CAFÉ", 2, 15, 26, 3);
    rb_tokenizer_destroy(t);

    rb_tokenizer_opts_default(&o);
    o.do_lower_case = false;
    o.pre_lowercase = true; /* sentence-transformers' own lower-casing */
    t = make(&o);
    EXPECT(t, "HELLO", 2, 5, 3);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(cjk_characters_are_words) {
    rb_tokenizer *t = make(NULL);
    EXPECT(t, "中国", 2, 18, 19, 3);
    EXPECT(t, "a中b", 2, 13, 18, 14, 3);
    rb_tokenizer_destroy(t);
    rb_tokenizer_opts o;
    rb_tokenizer_opts_default(&o);
    o.tokenize_chinese_chars = false;
    t = make(&o);
    EXPECT(t, "中国", 2, 1, 3); /* one word, no "##国" piece */
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(punctuation_classes) {
    rb_tokenizer *t = make(NULL);
    /* ASCII symbols count as punctuation even where Unicode says S*. */
    EXPECT(t, "a$b", 2, 13, 22, 14, 3);
    /* Unicode P* (¿ is Po) splits... */
    EXPECT(t, "a¿b", 2, 13, 23, 14, 3);
    /* ...but a currency sign (Sc) outside ASCII does not. */
    EXPECT(t, "a€b", 2, 1, 3);
    EXPECT(t, "!!..", 2, 10, 10, 12, 12, 3);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(control_and_space_characters) {
    rb_tokenizer *t = make(NULL);
    EXPECT(t, "hel\x01lo", 2, 5, 3);                 /* Cc dropped */
    EXPECT(t, "hel\xe2\x80\x8blo", 2, 5, 3);         /* U+200B (Cf) dropped */
    EXPECT(t, "hel\xc2\xadlo", 2, 5, 3);             /* soft hyphen (Cf) dropped */
    EXPECT(t, "hel\xee\x80\x80lo", 2, 5, 3);         /* private use dropped */
    EXPECT(t, "hel\xef\xbf\xbdlo", 2, 5, 3);         /* U+FFFD dropped */
    EXPECT(t, "hello\xe3\x80\x80world", 2, 5, 6, 3); /* ideographic space */
    EXPECT(t, "hello\xe2\x80\xa8world", 2, 5, 6, 3); /* line separator */
    EXPECT(t, "hello\xc2\xa0world", 2, 5, 6, 3);     /* no-break space */
    EXPECT(t, "hello\rworld\n", 2, 5, 6, 3);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(invalid_utf8_is_replaced) {
    rb_tokenizer *t = make(NULL);
    EXPECT(t, "hel\xfflo", 2, 5, 3);
    EXPECT(t, "hello\xc3", 2, 5, 3);             /* truncated sequence */
    EXPECT(t, "hel\xc0\xaflo", 2, 5, 3);         /* overlong '/' */
    EXPECT(t, "hel\xed\xa0\x80lo", 2, 5, 3);     /* encoded surrogate */
    EXPECT(t, "hel\xf4\x90\x80\x80lo", 2, 5, 3); /* above U+10FFFF */
    EXPECT(t, "\x80\x80\x80", 2, 3);
    /* Embedded NUL within the given length is dropped, not a terminator. */
    expect_len(t, "hel\0lo", 6, 512, 2, 5, 3, -1);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(over_long_words) {
    rb_tokenizer_opts o;
    rb_tokenizer_opts_default(&o);
    o.max_input_chars_per_word = 5;
    rb_tokenizer *t = make(&o);
    EXPECT(t, "xxxxx", 2, 20, 21, 21, 21, 21, 3);
    EXPECT(t, "xxxxxx a", 2, 1, 13, 3);
    rb_tokenizer_destroy(t);
    /* Default limit 100 code points, counted after normalisation. */
    t = make(NULL);
    char w[128];
    memset(w, 'x', 101);
    w[101] = '\0';
    int32_t ids[256];
    size_t n = 0;
    ck_assert_int_eq(rb_tokenizer_encode(t, w, 101, 256, ids, &n, NULL), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(ids[1], 1);
    ck_assert_int_eq(rb_tokenizer_encode(t, w, 100, 256, ids, &n, NULL), 0);
    ck_assert_uint_eq(n, 102);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(truncation) {
    rb_tokenizer *t = make(NULL);
    expect_len(t, "a b a b a", 9, 4, 2, 13, 14, 3, -1);
    expect_len(t, "a b a b a", 9, 2, 2, 3, -1);
    /* Truncation may cut a word's pieces, as the reference does. */
    expect_len(t, "unaffable", 9, 4, 2, 7, 8, 3, -1);
    int32_t ids[4];
    size_t n = 0;
    rb_error err;
    rb_error_clear(&err);
    ck_assert_int_eq(rb_tokenizer_encode(t, "a", 1, 1, ids, &n, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_ARG);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(special_tokens_in_text) {
    rb_tokenizer *t = make(NULL);
    EXPECT(t, "a[MASK]b", 2, 13, 4, 14, 3);
    EXPECT(t, "[SEP][CLS]", 2, 3, 2, 3);
    /* Matching is case-sensitive; lower-case is plain text. */
    EXPECT(t, "[mask]", 2, 24, 1, 25, 3);
    EXPECT(t, "[MASK", 2, 24, 1, 3);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(vocab_errors_name_the_source) {
    rb_error err;
    rb_error_clear(&err);
    const char *no_unk[] = {"[PAD]", "[CLS]", "[SEP]", "hello"};
    ck_assert_ptr_null(rb_tokenizer_new(no_unk, 4, NULL, "tiny.txt", &err));
    ck_assert_int_eq(err.code, RB_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, "tiny.txt") && strstr(err.msg, "[UNK]"), "%s", err.msg);

    rb_error_clear(&err);
    ck_assert_ptr_null(rb_tokenizer_new_from_file("/nonexistent/vocab.txt", NULL, &err));
    ck_assert_int_eq(err.code, RB_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, "/nonexistent/vocab.txt") != NULL, "%s", err.msg);

    char path[] = "/tmp/rb_vocab_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    static const char bad[] = "[PAD]\n[UNK]\n[CL\0S]\n[SEP]\n";
    ck_assert_int_eq(write(fd, bad, sizeof bad - 1), (int)(sizeof bad - 1));
    close(fd);
    rb_error_clear(&err);
    ck_assert_ptr_null(rb_tokenizer_new_from_file(path, NULL, &err));
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "line 3"), "%s", err.msg);

    /* A well-formed file (CRLF tolerated, last line without newline). */
    static const char good[] = "[PAD]\r\n[UNK]\r\n[CLS]\n[SEP]\nhello";
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, good, sizeof good - 1), (int)(sizeof good - 1));
    close(fd);
    rb_error_clear(&err);
    rb_tokenizer *t = rb_tokenizer_new_from_file(path, NULL, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_uint_eq(rb_tokenizer_vocab_size(t), 5);
    ck_assert_int_eq(rb_tokenizer_token_id(t, "hello"), 4);
    ck_assert_int_eq(rb_tokenizer_token_id(t, "[UNK]"), 1);
    rb_tokenizer_destroy(t);
    unlink(path);
    rb_tokenizer_destroy(NULL);
}
END_TEST

/* ---- tokenizer.json ------------------------------------------------------ */

/* Writes `json` to a temporary file and loads it; NULL (and *err) on failure. */
static rb_tokenizer *from_json(const char *json, rb_error *err) {
    char path[] = "/tmp/rb_tokjson_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, json, strlen(json)), (int)strlen(json));
    close(fd);
    rb_error_clear(err);
    rb_tokenizer *t = rb_tokenizer_new_from_json(path, false, err);
    unlink(path);
    return t;
}

static rb_tokenizer *from_json_ok(const char *json) {
    rb_error err;
    rb_tokenizer *t = from_json(json, &err);
    ck_assert_msg(t != NULL, "tokenizer.json: %s", err.msg);
    return t;
}

/* U+2581, Metaspace's marker. */
#define MS "\xe2\x96\x81"

/* Scores picked so that each best path is known by hand: min score -5, so
 * an unknown code point costs -15. */
static const char unigram_json[] =
    "{\"added_tokens\": [{\"id\": 9, \"content\": \"<mask>\", \"lstrip\": true},"
    " {\"id\": 10, \"content\": \"[X]\", \"rstrip\": true},"
    " {\"id\": 11, \"content\": \"ab\", \"single_word\": true}],"
    " \"normalizer\": null,"
    " \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"" MS "\","
    " \"prepend_scheme\": \"always\", \"split\": true},"
    " \"post_processor\": {\"type\": \"RobertaProcessing\", \"sep\": [\"</s>\", 2],"
    " \"cls\": [\"<s>\", 1], \"trim_offsets\": true, \"add_prefix_space\": true},"
    " \"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"byte_fallback\": %s, \"vocab\": ["
    "[\"<unk>\", 0], [\"<s>\", 0], [\"</s>\", 0], [\"" MS "\", -2], [\"a\", -1], [\"b\", -1],"
    " [\"zz\", -1.5], [\"" MS "zz\", -5], [\"<0x78>\", -4]]}}";

START_TEST(unigram_viterbi_and_unknowns) {
    char json[2048];
    snprintf(json, sizeof json, unigram_json, "false");
    rb_tokenizer *t = from_json_ok(json);
    /* "▁zz" alone is -5; "▁" + "zz" is -3.5: the better path wins. */
    EXPECT(t, "zz", 1, 3, 6, 2);
    EXPECT(t, "a b", 1, 3, 4, 3, 5, 2);
    /* Unknown code points next to each other are one unknown piece. */
    EXPECT(t, "xy", 1, 3, 0, 2);
    EXPECT(t, "axyb", 1, 3, 4, 0, 5, 2);
    /* Added tokens: <mask> takes the space before it, [X] the one after;
     * "ab" only as a word of its own. */
    EXPECT(t, "a <mask>", 1, 3, 4, 9, 2);
    EXPECT(t, "[X] b", 1, 10, 3, 5, 2);
    EXPECT(t, "ab bab", 1, 11, 3, 5, 4, 5, 2);
    ck_assert_uint_eq(rb_tokenizer_special_count(t), 2);
    /* Truncation keeps <s> and </s>. */
    expect_len(t, "a b a b", 7, 4, 1, 3, 4, 2, -1);
    rb_tokenizer_destroy(t);

    /* Byte fallback: an unknown piece whose every byte has a <0xHH> piece
     * becomes those; otherwise it stays <unk>. */
    snprintf(json, sizeof json, unigram_json, "true");
    t = from_json_ok(json);
    EXPECT(t, "xx", 1, 3, 8, 8, 2);
    EXPECT(t, "xy", 1, 3, 0, 2);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(tokenizer_json_normalizers_and_wordpiece) {
    rb_tokenizer *t = from_json_ok(
        "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFKC\"},"
        " {\"type\": \"Lowercase\"}, {\"type\": \"Replace\", \"pattern\": {\"String\": \"qq\"},"
        " \"content\": \"q\"}, {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"-{2,}\"},"
        " \"content\": \" \"}, {\"type\": \"Strip\", \"strip_left\": true,"
        " \"strip_right\": true}]},"
        " \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
        "{\"type\": \"WhitespaceSplit\"}]},"
        " \"post_processor\": {\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 2],"
        " \"cls\": [\"[CLS]\", 1]},"
        " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\","
        " \"continuing_subword_prefix\": \"@@\", \"max_input_chars_per_word\": 5,"
        " \"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2, \"fi\": 3, \"abc\": 4,"
        " \"@@x\": 5, \"q\": 6, \"a-b\": 7}}}");
    /* NFKC folds the ligature and the full-width letters, then lower-case. */
    EXPECT(t, "\xef\xac\x81 \xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", 1, 3, 4, 2);
    EXPECT(t, "abcx", 1, 4, 5, 2);
    /* "qqqq" -> "qq": no "@@q", so the word is unknown. */
    EXPECT(t, "qqqq", 1, 0, 2);
    EXPECT(t, "QQ", 1, 6, 2);
    /* A run of two or more dashes is a space; one dash is kept. */
    EXPECT(t, "abc---abc a-b", 1, 4, 4, 7, 2);
    /* Longer than max_input_chars_per_word: unknown. */
    EXPECT(t, "abcxxx", 1, 0, 2);
    EXPECT(t, "  abc  ", 1, 4, 2);
    rb_tokenizer_destroy(t);

    /* Whitespace: runs of word characters and runs of other symbols. */
    t = from_json_ok("{\"pre_tokenizer\": {\"type\": \"Whitespace\"},"
                     " \"post_processor\": null,"
                     " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\","
                     " \"vocab\": {\"[UNK]\": 0, \"abc\": 1, \"!!\": 2, \"##x\": 3, \"d\": 4}}}");
    EXPECT(t, "abc!!d x", 1, 2, 4, 0);
    ck_assert_uint_eq(rb_tokenizer_special_count(t), 0);
    rb_tokenizer_destroy(t);
}
END_TEST

START_TEST(tokenizer_json_errors_name_the_part) {
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"[1, 2]", "expected a tokenizers object"},
        {"{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}",
         "\"WordLevel\" is not supported"},
        {"{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {\"a\": 0}}}",
         "unk_token \"[UNK]\" is not in the vocabulary"},
        {"{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"a\", \"vocab\": {\"a\": -1}}}",
         "the id of \"a\" (line 1) is not a valid token id"},
        {"{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0]]}}", "\"unk_id\" must be"},
        {"{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"a\"]]}}",
         "Unigram vocab entry 0 (line 1) is not [piece, score]"},
        {"{\"normalizer\": {\"type\": \"Nmt\"}, \"model\": {\"type\": \"Unigram\", \"unk_id\": 0,"
         " \"vocab\": [[\"a\", 0]]}}",
         "normalizer \"Nmt\" is not supported"},
        {"{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\":"
         " {\"id\": \"<s>\"}}, {\"Sequence\": {\"id\": \"A\"}}], \"special_tokens\": {}},"
         " \"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"a\", 0]]}}",
         "special token of \"single\" is not in \"special_tokens\""},
        {"{\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"AAAA\"},"
         " \"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"a\", 0]]}}",
         "precompiled_charsmap"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rb_error err;
        rb_tokenizer *t = from_json(cases[i].json, &err);
        ck_assert_msg(t == NULL, "case %zu loaded", i);
        ck_assert_int_eq(err.code, RB_ERR_MODEL);
        ck_assert_msg(strstr(err.msg, "/tmp/rb_tokjson_") && strstr(err.msg, cases[i].needle),
                      "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].needle);
    }
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, basic_words_and_punctuation);
    tcase_add_test(tc, wordpiece_greedy_longest_match);
    tcase_add_test(tc, lower_case_and_accents);
    tcase_add_test(tc, cjk_characters_are_words);
    tcase_add_test(tc, punctuation_classes);
    tcase_add_test(tc, control_and_space_characters);
    tcase_add_test(tc, invalid_utf8_is_replaced);
    tcase_add_test(tc, over_long_words);
    tcase_add_test(tc, truncation);
    tcase_add_test(tc, special_tokens_in_text);
    tcase_add_test(tc, vocab_errors_name_the_source);
    tcase_add_test(tc, unigram_viterbi_and_unknowns);
    tcase_add_test(tc, tokenizer_json_normalizers_and_wordpiece);
    tcase_add_test(tc, tokenizer_json_errors_name_the_part);
    suite_add_tcase(s, tc);
    return s;
}
