# Avro binary values (libavro-c) as the pipeline's JSON documents.
libragbatch_a_SOURCES += src/avro/avro.h src/avro/avro_internal.h src/avro/schema.c \
	src/avro/scan.c src/avro/read.c

check_PROGRAMS += tests/check_avro
TESTS += tests/check_avro
tests_check_avro_SOURCES = tests/check_avro.c tests/spawn.c tests/spawn.h tests/avro_enc.c tests/avro_enc.h \
	tests/stage_fixture.c tests/stage_fixture.h \
	tests/servers/registry_server.c tests/servers/registry_server.h \
	tests/servers/http_server.c tests/servers/http_server.h \
	tests/servers/registry_client.c tests/servers/registry_client.h
tests_check_avro_CFLAGS = $(TEST_CFLAGS)
tests_check_avro_LDADD = $(TEST_LIBS) -lpthread

# Avro topics written by the Apache Avro Java library, through the ragbatch
# binary, Kafka and MongoDB (scripts/servers.sh); the jars come from
# scripts/avro-java.sh.
check_PROGRAMS += tests/check_avro_pipeline
TESTS += tests/check_avro_pipeline
tests_check_avro_pipeline_SOURCES = tests/check_avro_pipeline.c tests/avro_enc.c \
	tests/avro_enc.h tests/harness.c tests/spawn.c tests/spawn.h tests/harness.h \
	tests/servers/registry_server.c tests/servers/registry_server.h \
	tests/servers/http_server.c tests/servers/http_server.h \
	tests/servers/registry_client.c tests/servers/registry_client.h
tests_check_avro_pipeline_CFLAGS = $(TEST_CFLAGS)
tests_check_avro_pipeline_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_avro_pipeline_DEPENDENCIES = ragbatch$(EXEEXT)
