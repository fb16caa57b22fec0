# Integration suites: the real Kafka broker and MongoDB-wire server started
# by scripts/servers.sh (RAGBATCH_KAFKA_BOOTSTRAP, RAGBATCH_MONGO_URI).
# They run the ragbatch binary, so it is built first.
check_PROGRAMS += tests/check_pipeline
TESTS += tests/check_pipeline
tests_check_pipeline_SOURCES = tests/check_pipeline.c tests/harness.c tests/spawn.c tests/spawn.h tests/harness.h \
	tests/expo.c tests/expo.h \
	tests/servers/registry_server.c tests/servers/registry_server.h \
	tests/servers/http_server.c tests/servers/http_server.h \
	tests/servers/registry_client.c tests/servers/registry_client.h
tests_check_pipeline_CFLAGS = $(TEST_CFLAGS)
tests_check_pipeline_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_pipeline_DEPENDENCIES = ragbatch$(EXEEXT)

# The Kafka source on its own (no ragbatch binary needed).
check_PROGRAMS += tests/check_source
TESTS += tests/check_source
tests_check_source_SOURCES = tests/check_source.c tests/harness.c tests/spawn.c tests/spawn.h tests/harness.h
tests_check_source_CFLAGS = $(TEST_CFLAGS)
tests_check_source_LDADD = $(TEST_LIBS) -lpthread

# The runner's batch loop through in-process ports (no server needed).
check_PROGRAMS += tests/check_runner
TESTS += tests/check_runner
tests_check_runner_SOURCES = tests/check_runner.c tests/inproc.c tests/inproc.h
tests_check_runner_CFLAGS = $(TEST_CFLAGS)
tests_check_runner_LDADD = $(TEST_LIBS)

# Change data capture: PostgreSQL -> Kafka Connect + Debezium -> ragbatch ->
# MongoDB (scripts/postgres.sh, scripts/connect.sh via scripts/servers.sh).
check_PROGRAMS += tests/check_cdc
TESTS += tests/check_cdc
tests_check_cdc_SOURCES = tests/check_cdc.c tests/harness.c tests/spawn.c tests/spawn.h tests/harness.h
tests_check_cdc_CFLAGS = $(TEST_CFLAGS)
tests_check_cdc_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_cdc_DEPENDENCIES = ragbatch$(EXEEXT)

# Long texts as chunk sets, through the ragbatch binary (runner/chunking.c).
check_PROGRAMS += tests/check_chunk_pipeline
TESTS += tests/check_chunk_pipeline
tests_check_chunk_pipeline_SOURCES = tests/check_chunk_pipeline.c tests/harness.c tests/spawn.c tests/spawn.h tests/harness.h \
	tests/expo.c tests/expo.h
tests_check_chunk_pipeline_CFLAGS = $(TEST_CFLAGS)
tests_check_chunk_pipeline_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_chunk_pipeline_DEPENDENCIES = ragbatch$(EXEEXT)

# deploy/: the Prometheus alerts (promtool check and unit tests) and the
# Grafana dashboard (its queries parse, its metrics are exported).
check_PROGRAMS += tests/check_monitoring
TESTS += tests/check_monitoring
tests_check_monitoring_SOURCES = tests/check_monitoring.c tests/spawn.c tests/spawn.h
tests_check_monitoring_CFLAGS = $(TEST_CFLAGS)
tests_check_monitoring_LDADD = $(TEST_LIBS)

# A collection as sorted canonical Extended JSON (scripts/container-test.sh
# compares what the host build and the container image stored).
noinst_PROGRAMS += tests/tools/mongo_dump
tests_tools_mongo_dump_SOURCES = tests/tools/mongo_dump.c
tests_tools_mongo_dump_CFLAGS = $(AM_CFLAGS)
tests_tools_mongo_dump_LDADD = $(MONGOC_LIBS)
# The operator's verbs (check --connect, status, dlq show) against the servers.
check_PROGRAMS += tests/check_ops
TESTS += tests/check_ops
tests_check_ops_SOURCES = tests/check_ops.c tests/harness.c tests/spawn.c tests/spawn.h tests/harness.h \
	tests/expo.c tests/expo.h tests/promtool.c tests/promtool.h
tests_check_ops_CFLAGS = $(TEST_CFLAGS)
tests_check_ops_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_ops_DEPENDENCIES = ragbatch$(EXEEXT)
