# Integration suites: the real Kafka broker and MongoDB-wire server started
# by scripts/servers.sh (RAGBATCH_KAFKA_BOOTSTRAP, RAGBATCH_MONGO_URI).
# They run the ragbatch binary, so it is built first.
check_PROGRAMS += tests/check_pipeline
TESTS += tests/check_pipeline
tests_check_pipeline_SOURCES = tests/check_pipeline.c tests/harness.c tests/harness.h \
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
tests_check_source_SOURCES = tests/check_source.c tests/harness.c tests/harness.h
tests_check_source_CFLAGS = $(TEST_CFLAGS)
tests_check_source_LDADD = $(TEST_LIBS) -lpthread

# Long texts as chunk sets, through the ragbatch binary (runner/chunking.c).
check_PROGRAMS += tests/check_chunk_pipeline
TESTS += tests/check_chunk_pipeline
tests_check_chunk_pipeline_SOURCES = tests/check_chunk_pipeline.c tests/harness.c tests/harness.h
tests_check_chunk_pipeline_CFLAGS = $(TEST_CFLAGS)
tests_check_chunk_pipeline_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_chunk_pipeline_DEPENDENCIES = ragbatch$(EXEEXT)
