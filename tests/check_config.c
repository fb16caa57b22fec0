/* Unit tests for the job configuration: parsing, checks, errors, suggestions. */
#include "check_main.h"
#include "config/config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/rbcfgXXXXXX";

static char *write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *minimal = "source.topics = a, b\n"
                             "kafka.bootstrap.servers = 127.0.0.1:9092\n"
                             "text.template = {name}\n"
                             "mongo.uri = mongodb://localhost/\n"
                             "mongo.database = db\n"
                             "mongo.collection = c\n"
                             "embed.model.dir = ../models/m\n";

static void setup(void) { ck_assert_ptr_nonnull(mkdtemp(tmpdir)); }

static void teardown(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    memcpy(tmpdir, "/tmp/rbcfgXXXXXX", sizeof tmpdir);
}

static int load(const char *text, rb_job_config *cfg, rb_error *err) {
    ck_assert_int_eq(rb_job_config_init(cfg, err), 0);
    const char *path = write_file("job.job", text);
    if (rb_job_config_load(cfg, path, err) != 0) return -1;
    return rb_job_config_check(cfg, err);
}

START_TEST(defaults_and_values_are_typed) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_msg(load(minimal, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(cfg.topics.count, 2);
    ck_assert_str_eq(cfg.topics.items[1], "b");
    ck_assert_int_eq(cfg.trigger_interval_ms, 1000);
    ck_assert_int_eq(cfg.errors_tolerance, RB_TOLERANCE_NONE);
    ck_assert_str_eq(cfg.job_name, "job");
    ck_assert_uint_eq(cfg.kafka_count, 1);
    ck_assert_str_eq(cfg.kafka[0].key, "bootstrap.servers");
    /* Paths resolve against the job file's directory. */
    char expect[600];
    snprintf(expect, sizeof expect, "%s/../models/m", tmpdir);
    ck_assert_str_eq(cfg.embed_model_dir, expect);
    rb_job_config_free(&cfg);
}
END_TEST

START_TEST(unknown_key_names_file_line_and_suggests) {
    rb_job_config cfg;
    rb_error err;
    char text[1024];
    snprintf(text, sizeof text, "%s\n# comment\nerrors.tolerence = all\n", minimal);
    ck_assert_int_eq(load(text, &cfg, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "job.job:10") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "did you mean 'errors.tolerance'") != NULL, "%s", err.msg);
    rb_job_config_free(&cfg);
    ck_assert_ptr_null(rb_config_suggest("completely.unrelated.thing"));
}
END_TEST

START_TEST(bad_values_are_errors) {
    static const struct {
        const char *line;
        const char *expect;
    } cases[] = {
        {"trigger.interval.ms = soon\n", "not an integer"},
        {"batch.max.records = 0\n", "out of range"},
        {"errors.tolerance = some\n", "expected none or all"},
        {"log.format = xml\n", "expected one of text|json"},
        {"errors.log.enable = yes\n", "expected true or false"},
        {"kafka.enable.auto.commit = true\n", "cannot be set"},
        /* java.util.Properties syntax: white space separates key and value. */
        {"no equals sign here\n", "unknown key 'no'"},
        {"= value without a key\n", "expected 'key = value', found no key"},
        {"source.topics = again\n", "set twice"},
        {"job.name = ${RB_TEST_SURELY_UNSET_VAR}\n", "RB_TEST_SURELY_UNSET_VAR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rb_job_config cfg;
        rb_error err;
        char text[1024];
        snprintf(text, sizeof text, "%s%s", minimal, cases[i].line);
        ck_assert_int_eq(load(text, &cfg, &err), -1);
        ck_assert_msg(strstr(err.msg, cases[i].expect) != NULL, "case %zu: %s", i, err.msg);
        ck_assert_msg(strstr(err.msg, ":8") != NULL, "case %zu lacks the line: %s", i, err.msg);
        rb_job_config_free(&cfg);
    }
}
END_TEST

/* Every rule checked once all sources are read (a row's own check or a
 * rule across keys) names the file, the keys and the values. */
START_TEST(checks_name_file_keys_and_values) {
    static const struct {
        const char *set[2];
        const char *expect;
    } cases[] = {
        {{"embed.model.dir="}, "embed.provider = local needs embed.model.dir"},
        {{"embed.provider=tei"}, "embed.provider = tei needs embed.url"},
        {{"embed.provider=openai", "embed.url=http://127.0.0.1:1"},
         "embed.provider = openai needs embed.model"},
        {{"embed.api.key.env=K", "embed.api.key.file=k"},
         "set embed.api.key.env or embed.api.key.file, not both"},
        {{"embed.api.version=2024-02-01"},
         "embed.api.version (Azure OpenAI) needs embed.provider = openai"},
        {{"embed.retry.backoff.ms=2000", "embed.retry.backoff.max.ms=1000"},
         "embed.retry.backoff.ms (2000) is larger than embed.retry.backoff.max.ms (1000)"},
        {{"sink.retry.backoff.ms=3000", "sink.retry.backoff.max.ms=2000"},
         "sink.retry.backoff.ms (3000) is larger than sink.retry.backoff.max.ms (2000)"},
        {{"errors.deadletterqueue.topic.name=dlq"},
         "errors.deadletterqueue.topic.name needs errors.tolerance = all"},
        {{"errors.deadletterqueue.topic.replication.factor=0"},
         "errors.deadletterqueue.topic.replication.factor = 0"},
        {{"document.id.field="}, "document.id.field must name an event field"},
    };
    const char *path = write_file("rules.job", minimal);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rb_job_config cfg;
        rb_error err;
        ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
        ck_assert_msg(rb_job_config_load(&cfg, path, &err) == 0, "%s", err.msg);
        ck_assert_msg(rb_job_config_check(&cfg, &err) == 0, "case %zu: %s", i, err.msg);
        for (size_t j = 0; j < 2 && cases[i].set[j]; j++)
            ck_assert_msg(rb_job_config_set(&cfg, cases[i].set[j], "test", &err) == 0, "%s",
                          err.msg);
        ck_assert_int_eq(rb_job_config_check(&cfg, &err), -1);
        ck_assert_msg(strstr(err.msg, cases[i].expect), "case %zu: %s", i, err.msg);
        ck_assert_msg(strstr(err.msg, path) == err.msg, "case %zu lacks the file: %s", i, err.msg);
        rb_job_config_free(&cfg);
    }
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(load("source.topics = t\ntext.template = {a}\nmongo.uri = mongodb://h/\n"
                          "mongo.database = d\nmongo.collection = c\n",
                          &cfg, &err),
                     -1);
    ck_assert_msg(strstr(err.msg, "required key kafka.bootstrap.servers is missing"), "%s",
                  err.msg);
    rb_job_config_free(&cfg);
}
END_TEST

START_TEST(missing_required_key_is_named) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(load("source.topics = t\nkafka.bootstrap.servers = x:1\n", &cfg, &err), -1);
    ck_assert_msg(strstr(err.msg, "required key text.template") != NULL, "%s", err.msg);
    rb_job_config_free(&cfg);
}
END_TEST

START_TEST(includes_continuations_env_and_overrides) {
    write_file("defaults.conf", "trigger.interval.ms = 250\nerrors.tolerance = all\n");
    setenv("RB_TEST_URI", "mongodb://u:p@h/", 1);
    char text[2048];
    snprintf(text, sizeof text,
             "include = defaults.conf\n"
             "source.topics = t\n"
             "kafka.bootstrap.servers = x:1\n"
             "text.template = {name}. \\\n   {brand?}\n"
             "mongo.uri = ${RB_TEST_URI}\n"
             "mongo.database = d\nmongo.collection = c\nembed.model.dir = /m\n"
             "trigger.interval.ms = 500\n");
    rb_job_config cfg;
    rb_error err;
    ck_assert_msg(load(text, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.trigger_interval_ms, 500); /* the job overrides its include */
    ck_assert_int_eq(cfg.errors_tolerance, RB_TOLERANCE_ALL);
    ck_assert_str_eq(cfg.text_template, "{name}. {brand?}");
    ck_assert_str_eq(cfg.mongo_uri, "mongodb://u:p@h/");
    ck_assert_int_eq(rb_job_config_set(&cfg, "batch.max.records=7", "--set", &err), 0);
    ck_assert_int_eq(cfg.batch_max_records, 7);
    ck_assert_int_eq(rb_job_config_set(&cfg, "batch.max.recods=7", "--set", &err), -1);
    ck_assert_msg(strstr(err.msg, "--set") && strstr(err.msg, "batch.max.records"), "%s", err.msg);

    /* Secrets never reach printed output. */
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_job_config_print(&cfg, f);
    fclose(f);
    ck_assert_ptr_null(strstr(mem, "u:p@"));
    ck_assert_ptr_nonnull(strstr(mem, "mongo.uri = (secret)"));
    free(mem);
    rb_job_config_free(&cfg);
}
END_TEST

/* `ragbatch check` prints every key; a credential in any of them, whatever
 * its form, is replaced. */
START_TEST(printed_config_carries_no_credential) {
    char text[2048];
    snprintf(text, sizeof text,
             "%s"
             "schema.registry.url = https://reg-user:REGPASS1@registry.example.com:8081/\n"
             "schema.registry.basic.auth.user.info = alice:USERINFO2\n"
             "embed.url = https://api.example.com/v1?api_key=EMBEDKEY3\n"
             "kafka.sasl.password = SASLPASS4\n"
             "kafka.ssl.key.password = SSLKEY5\n"
             "kafka.sasl.oauthbearer.client.secret = OAUTH6\n"
             "kafka.sasl.oauthbearer.config = principal=p clientSecret=OAUTH7\n"
             "kafka.ssl.key.pem = -----BEGIN PRIVATE KEY-----PEM8-----END PRIVATE KEY-----\n"
             "kafka.client.id = https://cid:CLIENTPW9@x/\n",
             minimal);
    rb_job_config cfg;
    rb_error err;
    ck_assert_msg(load(text, &cfg, &err) == 0, "%s", err.msg);
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_job_config_print(&cfg, f);
    fclose(f);
    static const char *const secrets[] = {"REGPASS1",  "USERINFO2", "EMBEDKEY3",
                                          "SASLPASS4", "SSLKEY5",   "OAUTH6",
                                          "OAUTH7",    "PEM8",      "CLIENTPW9"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        ck_assert_msg(!strstr(mem, secrets[i]), "%s printed:\n%s", secrets[i], mem);
    /* What is not secret stays, so the output still says where things are. */
    ck_assert_ptr_nonnull(
        strstr(mem, "schema.registry.url = https://reg-user:***@registry.example.com:8081/\n"));
    ck_assert_ptr_nonnull(strstr(mem, "embed.url = https://api.example.com/v1?api_key=***\n"));
    ck_assert_ptr_nonnull(strstr(mem, "kafka.sasl.password = (secret)\n"));
    ck_assert_ptr_nonnull(strstr(mem, "kafka.bootstrap.servers = 127.0.0.1:9092\n"));
    free(mem);
    rb_job_config_free(&cfg);
}
END_TEST

/* Kafka Connect's key for the DLQ topic it creates: 3 by default, -1 for
 * the broker's default, and 0 replicas is no topic at all. */
START_TEST(dlq_replication_factor_follows_connect) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_msg(load(minimal, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.dlq_replication_factor, 3);
    rb_job_config_free(&cfg);
    char text[1024];
    snprintf(text, sizeof text, "%serrors.deadletterqueue.topic.replication.factor = -1\n",
             minimal);
    ck_assert_msg(load(text, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.dlq_replication_factor, -1);
    rb_job_config_free(&cfg);
    snprintf(text, sizeof text, "%serrors.deadletterqueue.topic.replication.factor = 0\n",
             minimal);
    ck_assert_int_eq(load(text, &cfg, &err), -1);
    ck_assert_msg(strstr(err.msg, "errors.deadletterqueue.topic.replication.factor = 0"), "%s",
                  err.msg);
    rb_job_config_free(&cfg);
}
END_TEST

/* A choice key stores the enum value its name maps to (defaults too), the
 * effective configuration prints the name back, and the table answers
 * enum -> name for the users that need the name (the embedder's provider). */
START_TEST(choices_are_enums) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_msg(load(minimal, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.value_format, RB_FORMAT_JSON);
    ck_assert_int_eq(cfg.id_from, RB_ID_FROM_VALUE);
    ck_assert_int_eq(cfg.embed_provider, RB_EMBED_LOCAL);
    ck_assert_int_eq(cfg.mongo_vector_format, RB_VECTOR_ARRAY);
    ck_assert_int_eq(cfg.log_level, RB_LOG_INFO);
    ck_assert_int_eq(cfg.log_format, RB_LOG_TEXT);
    rb_job_config_free(&cfg);
    char text[1024];
    snprintf(text, sizeof text,
             "%ssource.value.format = debezium\ndocument.id.from = key\n"
             "mongo.vector.format = float32\nlog.level = warn\nlog.format = json\n"
             "errors.tolerance = all\n",
             minimal);
    ck_assert_msg(load(text, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.value_format, RB_FORMAT_DEBEZIUM);
    ck_assert_int_eq(cfg.id_from, RB_ID_FROM_KEY);
    ck_assert_int_eq(cfg.mongo_vector_format, RB_VECTOR_FLOAT32);
    ck_assert_int_eq(cfg.log_level, RB_LOG_WARN);
    ck_assert_int_eq(cfg.log_format, RB_LOG_JSON);
    ck_assert_int_eq(cfg.errors_tolerance, RB_TOLERANCE_ALL);
    ck_assert_int_eq(rb_job_config_set(&cfg, "embed.provider=tei", "test", &err), 0);
    ck_assert_int_eq(cfg.embed_provider, RB_EMBED_TEI);
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_job_config_print(&cfg, f);
    fclose(f);
    ck_assert_msg(strstr(mem, "\nsource.value.format = debezium\n"), "%s", mem);
    ck_assert_msg(strstr(mem, "\nembed.provider = tei\n"), "%s", mem);
    ck_assert_msg(strstr(mem, "\nlog.level = warn\n"), "%s", mem);
    ck_assert_msg(strstr(mem, "\nerrors.tolerance = all\n"), "%s", mem);
    free(mem);
    ck_assert_str_eq(rb_config_choice_name("embed.provider", RB_EMBED_OPENAI), "openai");
    ck_assert_str_eq(rb_config_choice_name("mongo.vector.format", RB_VECTOR_FLOAT32), "float32");
    ck_assert_ptr_null(rb_config_choice_name("embed.provider", 99));
    ck_assert_ptr_null(rb_config_choice_name("job.name", 0));
    rb_job_config_free(&cfg);
}
END_TEST

START_TEST(include_cycle_is_reported) {
    write_file("a.conf", "include = b.conf\n");
    write_file("b.conf", "include = a.conf\n");
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(load("include = a.conf\n", &cfg, &err), -1);
    ck_assert_msg(strstr(err.msg, "cycle") != NULL, "%s", err.msg);
    rb_job_config_free(&cfg);
}
END_TEST

START_TEST(reference_lists_every_key) {
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_config_print_reference(f, true);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(mem, "| `errors.tolerance` | `none` or `all` |"));
    ck_assert_ptr_nonnull(strstr(mem, "| `kafka.*` |"));
    /* Every row has exactly four cells: no '|' inside one. */
    for (char *line = mem; line && *line;) {
        char *nl = strchr(line, '\n');
        int bars = 0;
        for (char *c = line; c < (nl ? nl : line + strlen(line)); c++) bars += *c == '|';
        ck_assert_msg(bars == 5, "row with %d '|': %.*s", bars,
                      (int)(nl ? nl - line : (long)strlen(line)), line);
        line = nl ? nl + 1 : NULL;
    }
    ck_assert(rb_config_key_known("kafka.security.protocol"));
    ck_assert(!rb_config_key_known("kafka."));
    free(mem);
}
END_TEST

START_TEST(readme_reference_table_is_current) {
    char *table = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&table, &size);
    rb_config_print_reference(f, true);
    fclose(f);
    FILE *r = fopen(RB_SOURCE_DIR "/README.md", "r");
    ck_assert_ptr_nonnull(r);
    char *readme = calloc(1, 1 << 20);
    ck_assert_ptr_nonnull(readme);
    size_t got = fread(readme, 1, (1 << 20) - 1, r);
    fclose(r);
    ck_assert_uint_gt(got, 0);
    ck_assert_msg(strstr(readme, table) != NULL,
                  "README.md's configuration reference is stale: paste the output of "
                  "`ragbatch config --markdown` into it");
    free(readme);
    free(table);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_and_values_are_typed);
    tcase_add_test(tc, unknown_key_names_file_line_and_suggests);
    tcase_add_test(tc, bad_values_are_errors);
    tcase_add_test(tc, missing_required_key_is_named);
    tcase_add_test(tc, checks_name_file_keys_and_values);
    tcase_add_test(tc, includes_continuations_env_and_overrides);
    tcase_add_test(tc, include_cycle_is_reported);
    tcase_add_test(tc, choices_are_enums);
    tcase_add_test(tc, printed_config_carries_no_credential);
    tcase_add_test(tc, dlq_replication_factor_follows_connect);
    tcase_add_test(tc, reference_lists_every_key);
    tcase_add_test(tc, readme_reference_table_is_current);
    suite_add_tcase(s, tc);
    return s;
}
