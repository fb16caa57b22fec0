libragbatch_a_SOURCES += \
	src/validate/json.c src/validate/json.h \
	src/validate/schema.c src/validate/schema.h

check_PROGRAMS += tests/check_json
TESTS += tests/check_json
tests_check_json_SOURCES = tests/check_json.c
tests_check_json_CFLAGS = $(TEST_CFLAGS)
tests_check_json_LDADD = $(TEST_LIBS)
