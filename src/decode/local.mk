# Kafka Connect's value formats (JsonConverter envelope, Debezium change
# events, auto-detection) and document ids from the key or several fields.
libragbatch_a_SOURCES += src/decode/decode.c src/decode/decode.h \
	src/decode/decode_internal.h src/decode/debezium.c src/decode/id.c src/decode/logical.c \
	src/decode/avro_value.c

check_PROGRAMS += tests/check_connect_formats
TESTS += tests/check_connect_formats
tests_check_connect_formats_SOURCES = tests/check_connect_formats.c
tests_check_connect_formats_CFLAGS = $(TEST_CFLAGS)
tests_check_connect_formats_LDADD = $(TEST_LIBS)
