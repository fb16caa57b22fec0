libragbatch_a_SOURCES += \
	src/validate/json.c src/validate/json.h \
	src/validate/json_tokens.c src/validate/json_tokens.h \
	src/validate/rfc3339.c src/validate/rfc3339.h \
	src/validate/schema.c src/validate/schema.h

check_PROGRAMS += tests/check_json tests/check_schema
TESTS += tests/check_json tests/check_schema
tests_check_json_SOURCES = tests/check_json.c
tests_check_json_CFLAGS = $(TEST_CFLAGS)
tests_check_json_LDADD = $(TEST_LIBS)
tests_check_schema_SOURCES = tests/check_schema.c
tests_check_schema_CFLAGS = $(TEST_CFLAGS)
tests_check_schema_LDADD = $(TEST_LIBS)
EXTRA_DIST += conf/product_schema.json tests/data/schema
