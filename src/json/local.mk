# The project's JSON library: a linear tokenizer and the tree every stage
# reads events, configs and answers with.
libragbatch_a_SOURCES += \
	src/json/json.c src/json/json.h \
	src/json/json_tokens.c src/json/json_tokens.h

check_PROGRAMS += tests/check_json
TESTS += tests/check_json
tests_check_json_SOURCES = tests/check_json.c
tests_check_json_CFLAGS = $(TEST_CFLAGS)
tests_check_json_LDADD = $(TEST_LIBS)
