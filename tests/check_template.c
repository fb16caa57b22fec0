/* Unit tests for the text template and the text hash (transform/template.h). */
#include "check_main.h"
#include "common/buf.h"
#include "common/error.h"
#include "transform/template.h"
#include "json/json.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char EVENT[] =
    "{\"name\": \"Trail  shoe\", \"brand\": \"Acme\", \"empty\": \"\", \"blank\": \"  \\n \","
    " \"none\": null, \"price\": 89.9, \"count\": 3, \"whole\": 2.0, \"hundred\": 1e2,"
    " \"third\": 0.3333333333333333, \"big\": 1.5e300, \"neg\": -12,"
    " \"yes\": true, \"no\": false, \"tags\": [\"run\", \"trail\", null, 7],"
    " \"attributes\": {\"color\": \"red\", \"size\": 42, \"gone\": null},"
    " \"nested\": {\"deep\": {\"leaf\": \"L\"}}, \"empty_list\": [],"
    " \"text\": \"line one\\nline\\ttwo  \\r\\n\"}";

static rb_json_doc *event_doc(void);

/* Renders `text` keeping paragraph breaks, compares with `want`, and
 * checks that the plain render is the same text with each break one
 * space. */
static void renders_paragraphs(const char *text, const char *want);

static rb_json_doc *event_doc(void) {
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_msg(rb_json_parse(EVENT, sizeof EVENT - 1, NULL, &doc, &err) == 0, "%s", err.msg);
    return doc;
}

/* Renders `text` against EVENT and compares with `want`. */
static void renders(const char *text, const char *want) {
    rb_template *t = NULL;
    rb_error err;
    ck_assert_msg(rb_template_compile(text, &t, &err) == 0, "<%s>: %s", text, err.msg);
    rb_json_doc *doc = event_doc();
    rb_buf out;
    rb_buf_init(&out);
    ck_assert_msg(rb_template_render(t, rb_json_doc_root(doc), &out, &err) == 0, "<%s>: %s", text,
                  err.msg);
    ck_assert_msg(strcmp(out.data ? out.data : "", want) == 0, "<%s>:\n got  [%s]\n want [%s]",
                  text, out.data ? out.data : "", want);
    rb_buf_free(&out);
    rb_json_doc_destroy(doc);
    rb_template_destroy(t);
}

static void render_fails(const char *text, const char *want) {
    rb_template *t = NULL;
    rb_error err;
    ck_assert_int_eq(rb_template_compile(text, &t, &err), 0);
    rb_json_doc *doc = event_doc();
    rb_buf out;
    rb_buf_init(&out);
    rb_buf_puts(&out, "kept");
    ck_assert_int_eq(rb_template_render(t, rb_json_doc_root(doc), &out, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_TRANSFORM);
    ck_assert_int_eq(err.stage, RB_STAGE_TRANSFORM);
    ck_assert_str_eq(err.msg, want);
    ck_assert_str_eq(out.data, "kept"); /* nothing half-rendered is left behind */
    rb_buf_free(&out);
    rb_json_doc_destroy(doc);
    rb_template_destroy(t);
}

static void compile_fails(const char *text, const char *want) {
    rb_template *t = (rb_template *)1;
    rb_error err;
    ck_assert_int_eq(rb_template_compile(text, &t, &err), -1);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strcmp(err.msg, want) == 0, "<%s>:\n got  %s\n want %s", text, err.msg, want);
}

static void renders_paragraphs(const char *text, const char *want) {
    rb_template *t = NULL;
    rb_error err;
    ck_assert_int_eq(rb_template_compile(text, &t, &err), 0);
    rb_json_doc *doc = event_doc();
    rb_buf p, plain;
    rb_buf_init(&p);
    rb_buf_init(&plain);
    ck_assert_int_eq(rb_template_render_paragraphs(t, rb_json_doc_root(doc), &p, &err), 0);
    ck_assert_int_eq(rb_template_render(t, rb_json_doc_root(doc), &plain, &err), 0);
    ck_assert_str_eq(p.data ? p.data : "", want);
    size_t w = 0;
    for (size_t r = 0; r < p.len; r++) {
        if (p.data[r] == '\n' && p.data[r + 1] == '\n') {
            p.data[w++] = ' ';
            r++;
        } else {
            p.data[w++] = p.data[r];
        }
    }
    ck_assert_uint_eq(w, plain.len);
    ck_assert_int_eq(memcmp(p.data ? p.data : "", plain.data ? plain.data : "", w), 0);
    rb_buf_free(&p);
    rb_buf_free(&plain);
    rb_json_doc_destroy(doc);
    rb_template_destroy(t);
}

START_TEST(paragraph_breaks_are_kept_for_the_chunker) {
    renders_paragraphs("{name}.\n\n  \n{brand}\n x", "Trail shoe.\n\nAcme x");
    renders_paragraphs("\n\n{name} \n\t\r\n {brand}\n\n", "Trail shoe\n\nAcme");
    renders_paragraphs("{name} {brand}", "Trail shoe Acme");
}
END_TEST

START_TEST(fields_and_dotted_paths) {
    renders("Name: {name}", "Name: Trail shoe");
    renders("{nested.deep.leaf}/{attributes.color}", "L/red");
    renders("{brand}{brand}", "AcmeAcme");
    renders("no placeholders", "no placeholders");
    renders("", "");
}
END_TEST

START_TEST(value_rendering) {
    renders("{count} {neg} {whole} {hundred}", "3 -12 2 100");
    renders("{price}", "89.9");
    renders("{third}", "0.3333333333333333");
    renders("{big}", "1.5e+300");
    renders("{yes}/{no}", "true/false");
    renders("{tags}", "run, trail, 7");
    renders("{attributes}", "color: red, size: 42");
    renders("[{empty_list}]", "[]");
    renders("<{nested}>", "<deep: leaf: L>");
}
END_TEST

/* Found by tests/fuzz/fuzz_event.c: containers whose items all render as
 * nothing, rendered into a buffer that has never allocated, wrote through
 * a NULL pointer. */
START_TEST(empty_containers_into_a_fresh_buffer) {
    static const char ev[] = "{\"v\": [[], {}, [null]], \"o\": {\"a\": [], \"\": {\"\": null}}}";
    static const char *const texts[] = {"{v?}", "{o}", "[[ x {v?} ]]"};
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_int_eq(rb_json_parse(ev, sizeof ev - 1, NULL, &doc, &err), 0);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        rb_template *t = NULL;
        ck_assert_int_eq(rb_template_compile(texts[i], &t, &err), 0);
        rb_buf out;
        rb_buf_init(&out);
        ck_assert_msg(rb_template_render(t, rb_json_doc_root(doc), &out, &err) == 0, "%s",
                      err.msg);
        ck_assert_str_eq(out.data ? out.data : "", "");
        rb_buf_free(&out);
        rb_template_destroy(t);
    }
    rb_json_doc_destroy(doc);
}
END_TEST

START_TEST(optional_fields) {
    renders("a{missing?}b{none?}c", "abc");
    renders("x {attributes.gone?} y", "x y");
    renders("{name.sub?}", ""); /* a path through a string is missing */
}
END_TEST

START_TEST(required_fields_fail_naming_the_field) {
    render_fails("{name} {missing}", "template field \"missing\" is missing in the event (write "
                                     "{missing?} if it may be absent)");
    render_fails("{none}", "template field \"none\" is null in the event (write {none?} if it "
                           "may be absent)");
    render_fails("[[ {attributes.weight} ]]", "template field \"attributes.weight\" is missing "
                                              "in the event (write {attributes.weight?} if it may "
                                              "be absent)");
}
END_TEST

START_TEST(optional_sections) {
    renders("{name}.[[ Brand: {brand?}.]][[ {description?}]]", "Trail shoe. Brand: Acme.");
    renders("{name}.[[ Brand: {missing?}.]] End", "Trail shoe. End");
    renders("A[[ null: {none?}]]B", "AB");
    renders("A[[ empty: {empty?}]]B", "AB");
    renders("A[[ blank: {blank?}]]B", "AB");
    renders("A[[ list: {empty_list?}]]B", "AB");
    renders("A[[ two: {brand?} {missing?}]]B", "AB"); /* any one missing drops it */
    renders("A[[ req: {brand}]]B", "A req: AcmeB");   /* no optional inside: kept */
    renders("[[{brand?}]][[{count?}]]", "Acme3");
    renders("a [ b ] c", "a [ b ] c"); /* single brackets are text */
}
END_TEST

START_TEST(escapes) {
    renders("\\{name\\} \\[\\[x\\]\\] \\\\ {brand}", "{name} [[x]] \\ Acme");
    renders("[[ \\{ {brand?} \\} ]]", "{ Acme }");
}
END_TEST

START_TEST(whitespace_is_folded_and_trimmed) {
    renders("  {text}  ", "line one line two");
    renders("\t{brand}\n\n  {count} ", "Acme 3");
    renders("{name}", "Trail shoe"); /* inside values too */
    /* Rendering appends; folding touches only the appended text. */
    rb_template *t = NULL;
    ck_assert_int_eq(rb_template_compile("  {brand}  ", &t, NULL), 0);
    rb_json_doc *doc = event_doc();
    rb_buf out;
    rb_buf_init(&out);
    rb_buf_puts(&out, "prefix  ");
    ck_assert_int_eq(rb_template_render(t, rb_json_doc_root(doc), &out, NULL), 0);
    ck_assert_str_eq(out.data, "prefix  Acme");
    rb_buf_free(&out);
    rb_json_doc_destroy(doc);
    rb_template_destroy(t);
}
END_TEST

START_TEST(compile_errors_give_the_column) {
    compile_fails("Name: {name",
                  "template column 7: unclosed '{' (write \\{ for a literal brace)");
    compile_fails("a {} b", "template column 3: empty field name");
    compile_fails("a {?} b", "template column 3: empty field name");
    compile_fails("[[ a [[ b ]] ]]",
                  "template column 6: nested section: '[[' inside the section opened at column 1");
    compile_fails("x [[ {a?}", "template column 3: unclosed section '[['");
    compile_fails("a } b", "template column 3: '}' without '{' (write \\} for a literal brace)");
    compile_fails("a ]] b", "template column 3: ']]' without '[[' (write \\]\\] for literal "
                            "brackets)");
    compile_fails("a \\n", "template column 3: unknown escape; only \\{ \\} \\[ \\] and \\\\ are "
                           "escapes");
    compile_fails("{na me}", "template column 4: invalid character ' ' in field name");
    compile_fails("{a?b}", "template column 3: '?' must come last, right before '}'");
    compile_fails("{a..b}", "template column 4: empty segment in field path");
    compile_fails("{.a}", "template column 2: empty segment in field path");
    compile_fails("{a.}", "template column 3: empty segment in field path");
    compile_fails("{a{b}}", "template column 3: '{' inside a placeholder");
    /* Columns count characters, not bytes. */
    compile_fails("\xc3\xa9\xc3\xa9 {", "template column 4: unclosed '{' (write \\{ for a literal "
                                        "brace)");
}
END_TEST

START_TEST(field_list) {
    rb_template *t = NULL;
    ck_assert_int_eq(rb_template_compile("{name} [[{brand?} {attributes.color?}]] \\{x\\}", &t,
                                         NULL),
                     0);
    ck_assert_uint_eq(rb_template_field_count(t), 3);
    ck_assert_str_eq(rb_template_field(t, 0), "name");
    ck_assert_str_eq(rb_template_field(t, 1), "brand");
    ck_assert_str_eq(rb_template_field(t, 2), "attributes.color");
    ck_assert_ptr_null(rb_template_field(t, 3));
    rb_template_destroy(t);
    rb_template_destroy(NULL);
}
END_TEST

START_TEST(text_hash_is_sha256) {
    char hex[65];
    /* FIPS 180-2 test vectors. */
    rb_text_hash("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rb_text_hash("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* Only `len` bytes count. */
    char a[65], b[65];
    rb_text_hash("abcdef", 3, a);
    ck_assert_str_eq(a, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rb_text_hash("abd", 3, b);
    ck_assert_str_ne(a, b);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fields_and_dotted_paths);
    tcase_add_test(tc, value_rendering);
    tcase_add_test(tc, optional_fields);
    tcase_add_test(tc, empty_containers_into_a_fresh_buffer);
    tcase_add_test(tc, required_fields_fail_naming_the_field);
    tcase_add_test(tc, optional_sections);
    tcase_add_test(tc, escapes);
    tcase_add_test(tc, whitespace_is_folded_and_trimmed);
    tcase_add_test(tc, compile_errors_give_the_column);
    tcase_add_test(tc, field_list);
    tcase_add_test(tc, text_hash_is_sha256);
    tcase_add_test(tc, paragraph_breaks_are_kept_for_the_chunker);
    suite_add_tcase(s, tc);
    return s;
}
