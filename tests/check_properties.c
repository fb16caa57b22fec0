/*
 * src/config/properties.c against Java's own parser: hand-written corner
 * cases and a few hundred random texts over the characters that matter
 * (separators, white space, backslashes, comment marks, line ends, \u
 * escapes) are read by java.util.Properties.load(Reader), through
 * tests/java/PropertiesDump.java run by the JDK on the machine, and by
 * rb_properties_parse; the two must agree on every key and value, and on
 * which texts are errors.  Java is required: without it the suite fails.
 */
#include "check_main.h"
#include "common/buf.h"
#include "config/config.h"
#include "config/properties.h"
#include "spawn.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const HAND[] = {
    "a=1\nb = 2\nc:3\nd 4\ne\t:\t5\nf\f=\f6\n",
    "# comment\n! bang comment\n   # indented comment\nk=v\n",
    "key = value with trailing space   \n",
    "multi = one \\\n    two \\\n\tthree\n",
    "cont=a\\\r\n  b\rnext=c\r\n",
    "esc\\=key = va\\:lue\\n\\t\\r\\f\\q\n",
    "sp\\ ace\\:key value\n",
    "uni = \\u00e9t\\u00C9 \\u20ac \\uD83D\\uDE00\n",
    "bad = \\u12\n",
    "bad = \\u12G4\n",
    "empty=\nonlykey\n=novalue\n:also\n",
    "dup=1\ndup=2\n",
    "\\\n# not a comment? it is\nx=1\n",
    "x=1\\\n# part of the value\n",
    "tail=backslash at the end\\",
    "x = a \\\\\ny = b\\\\\\\nz\n",
    "  \n\t\n\f\nlast=1",
    "k==v\nk2::v\nk3 = = v\nk4 : = v\n",
    "#only a comment",
    "",
    "utf8 = caf\xc3\xa9 \xe2\x82\xac\n",
    "\\\n\\\n",
};

/* A random text over the characters the grammar cares about (no '0' and
 * no 'd'/'D' among the hex digits: no \u0000, no surrogates, which this
 * parser refuses and Java takes). */
static void random_text(unsigned *seed, rb_buf *out) {
    static const char alphabet[] = "ab=:  \t\\\\\\#!\n\n\r\fu14aFe";
    rb_buf_reset(out);
    int n = (int)(rand_r(seed) % 60);
    for (int i = 0; i < n; i++) rb_buf_putc(out, alphabet[rand_r(seed) % (sizeof alphabet - 1)]);
}

static void put_hex(rb_buf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) rb_buf_printf(b, "%02x", *p);
}

static int by_key(const void *a, const void *b) {
    return strcmp(((const rb_property *)a)->key, ((const rb_property *)b)->key);
}

/* What rb_properties_parse reads, in PropertiesDump's format. */
static void dump_ours(const char *path, const char *text, size_t len, rb_buf *out) {
    rb_buf_printf(out, "FILE %s\n", path);
    rb_properties p;
    rb_error err;
    if (rb_properties_parse(text, len, path, &p, &err) != 0) {
        rb_buf_puts(out, "ERROR\n");
        return;
    }
    if (p.count) qsort(p.items, p.count, sizeof *p.items, by_key);
    for (size_t i = 0; i < p.count; i++) {
        put_hex(out, p.items[i].key);
        rb_buf_putc(out, '=');
        put_hex(out, p.items[i].value);
        rb_buf_putc(out, '\n');
    }
    rb_properties_free(&p);
}

START_TEST(agrees_with_java_util_properties) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/properties-%d", RB_BUILD_DIR, (int)getpid());
    mkdir(dir, 0755);
    size_t n_hand = sizeof HAND / sizeof HAND[0], n_random = 400, n = n_hand + n_random;
    char **paths = calloc(n, sizeof *paths);
    rb_buf ours, text;
    rb_buf_init(&ours);
    rb_buf_init(&text);
    unsigned seed = 20261201;
    for (size_t i = 0; i < n; i++) {
        rb_buf_reset(&text);
        if (i < n_hand)
            rb_buf_puts(&text, HAND[i]);
        else
            random_text(&seed, &text);
        char path[600];
        snprintf(path, sizeof path, "%s/%zu.properties", dir, i);
        paths[i] = strdup(path);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(text.data ? text.data : "", 1, text.len, f);
        fclose(f);
        dump_ours(path, text.data ? text.data : "", text.len, &ours);
    }
    /* One JVM for every file. */
    char out_path[600];
    snprintf(out_path, sizeof out_path, "%s/java.out", dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout)) _exit(127);
        const char **argv = calloc(n + 4, sizeof *argv);
        argv[0] = "java";
        argv[1] = RB_SOURCE_DIR "/tests/java/PropertiesDump.java";
        for (size_t i = 0; i < n; i++) argv[2 + i] = paths[i];
        execvp("java", (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "java PropertiesDump failed (status %d): is a JDK installed?", status);
    char *theirs = spawn_slurp(out_path, NULL);
    /* Compare file by file, so that a failure names the text. */
    const char *a = ours.data, *b = theirs;
    for (size_t i = 0; i < n; i++) {
        const char *na = strstr(a + 1, "FILE "), *nb = strstr(b + 1, "FILE ");
        size_t la = na ? (size_t)(na - a) : strlen(a), lb = nb ? (size_t)(nb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la) != 0) {
            char *t = spawn_slurp(paths[i], NULL);
            rb_buf shown;
            rb_buf_init(&shown);
            rb_buf_json_string(&shown, t, strlen(t));
            ck_abort_msg("text %s differs from Java's reading:\nours:\n%.*s\njava:\n%.*s",
                         shown.data, (int)la, a, (int)lb, b);
        }
        a += la;
        b += lb;
    }
    for (size_t i = 0; i < n; i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
    unlink(out_path);
    rmdir(dir);
    free(paths);
    free(theirs);
    rb_buf_free(&ours);
    rb_buf_free(&text);
}
END_TEST

/* A job file is read as Java reads a .properties file (values trimmed, as
 * Connect's ConfigDef trims them). */
START_TEST(job_files_read_as_java_does) {
    char dir[512], path[600], out_path[600];
    snprintf(dir, sizeof dir, "%s/tests/properties-job-%d", RB_BUILD_DIR, (int)getpid());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/cdc.job", dir);
    snprintf(out_path, sizeof out_path, "%s/java.out", dir);
    static const char text[] = "! Kafka Connect style\n"
                               "source.topics: shop.public.products\n"
                               "kafka.bootstrap.servers   127.0.0.1:9092\n"
                               "text.template = {name}.\\\n"
                               "    [[ {description?}]]\\t\\u00e9\\\\ \n"
                               "mongo.uri=mongodb://h/\r\n"
                               "mongo.database : d\n"
                               "  # indented comment\n"
                               "mongo.collection = c\\:1\n"
                               "embed.model.dir = /m\n"
                               "job.name = caf\\u00e9   \n";
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout)) _exit(127);
        execlp("java", "java", RB_SOURCE_DIR "/tests/java/PropertiesDump.java", path,
               (char *)NULL);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "java failed (%d)", status);
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    ck_assert_msg(rb_job_config_load(&cfg, path, &err) == 0, "%s", err.msg);
    const struct {
        const char *key, *ours;
    } keys[] = {
        {"source.topics", cfg.topics.items[0]},   {"kafka.bootstrap.servers", cfg.kafka[0].value},
        {"text.template", cfg.text_template},     {"mongo.uri", cfg.mongo_uri},
        {"mongo.database", cfg.mongo_database},   {"mongo.collection", cfg.mongo_collection},
        {"embed.model.dir", cfg.embed_model_dir}, {"job.name", cfg.job_name},
    };
    char *java = spawn_slurp(out_path, NULL);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        rb_buf want;
        rb_buf_init(&want);
        put_hex(&want, keys[i].key);
        rb_buf_putc(&want, '=');
        const char *line = strstr(java, want.data);
        ck_assert_msg(line != NULL, "Java did not read %s:\n%s", keys[i].key, java);
        /* Java's value, decoded from hex and trimmed as ConfigDef does. */
        rb_buf value;
        rb_buf_init(&value);
        for (const char *h = line + want.len; h[0] && h[0] != '\n'; h += 2) {
            unsigned x;
            sscanf(h, "%2x", &x);
            rb_buf_putc(&value, (char)x);
        }
        rb_buf_putc(&value, '\0');
        char *v = value.data;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) v[--n] = '\0';
        ck_assert_msg(strcmp(v, keys[i].ours) == 0, "%s: Java read [%s], ragbatch [%s]",
                      keys[i].key, v, keys[i].ours);
        rb_buf_free(&value);
        rb_buf_free(&want);
    }
    ck_assert_str_eq(cfg.text_template, "{name}.[[ {description?}]]\t\xc3\xa9\\");
    ck_assert_str_eq(cfg.job_name, "caf\xc3\xa9");
    free(java);
    rb_job_config_free(&cfg);
    unlink(path);
    unlink(out_path);
    rmdir(dir);
}
END_TEST

/* What Java takes and a C string cannot hold is refused, naming the line. */
START_TEST(refuses_what_c_strings_cannot_hold) {
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"a=1\nb=\\u0000\n", "t.properties:2: \\u0000 cannot be used"},
        {"a=\\uD83D\n", "lone UTF-16 surrogate"},
        {"a=\\uDE00x\n", "lone UTF-16 surrogate"},
        {"a=\xff\n", "not UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rb_properties p;
        rb_error err;
        ck_assert_int_eq(rb_properties_parse(cases[i].text, strlen(cases[i].text), "t.properties",
                                             &p, &err),
                         -1);
        ck_assert_msg(strstr(err.msg, cases[i].want), "%s", err.msg);
    }
    rb_properties p;
    rb_error err;
    const char *t = "k = v\nk = w\nother = x\n";
    ck_assert_int_eq(rb_properties_parse(t, strlen(t), "t", &p, &err), 0);
    ck_assert_uint_eq(p.count, 2);
    ck_assert_str_eq(rb_properties_get(&p, "k"), "w");
    ck_assert_int_eq(p.items[0].line, 2);
    ck_assert_ptr_null(rb_properties_get(&p, "missing"));
    rb_properties_free(&p);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("properties");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, agrees_with_java_util_properties);
    tcase_add_test(tc, refuses_what_c_strings_cannot_hold);
    tcase_add_test(tc, job_files_read_as_java_does);
    suite_add_tcase(s, tc);
    return s;
}
