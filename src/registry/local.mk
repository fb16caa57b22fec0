# Confluent Schema Registry wire format: frame, fetch by id (libcurl), cache.
libragbatch_a_SOURCES += src/registry/registry.c src/registry/registry.h

check_PROGRAMS += tests/check_registry
TESTS += tests/check_registry
tests_check_registry_SOURCES = tests/check_registry.c \
	tests/servers/registry_server.c tests/servers/registry_server.h \
	tests/servers/http_server.c tests/servers/http_server.h \
	tests/servers/registry_client.c tests/servers/registry_client.h
tests_check_registry_CFLAGS = $(TEST_CFLAGS)
tests_check_registry_LDADD = $(TEST_LIBS) -lpthread
