# search: the read side (exact top-k over the stored vectors)
libragbatch_a_SOURCES += \
	src/search/search.c src/search/search.h src/search/parents.c \
	src/search/topk.c src/search/topk.h \
	src/search/filter.c src/search/filter.h

check_PROGRAMS += tests/check_topk
TESTS += tests/check_topk
tests_check_topk_SOURCES = tests/check_topk.c
tests_check_topk_CFLAGS = $(TEST_CFLAGS)
tests_check_topk_LDADD = $(TEST_LIBS)

# The Atlas documents (pure) and the sink's aggregate/command calls the
# search side needs (kept here so the sink's own list stays untouched).
libragbatch_a_SOURCES += src/search/atlas.c src/search/atlas.h src/sink/aggregate.c

# Unit tests of the Atlas documents, and the search against the
# MongoDB-wire server: RAGBATCH_MONGO_URI (see scripts/servers.sh).
check_PROGRAMS += tests/check_search
TESTS += tests/check_search
tests_check_search_SOURCES = tests/check_search.c tests/harness.c tests/spawn.c tests/spawn.h tests/harness.h
tests_check_search_CFLAGS = $(TEST_CFLAGS)
tests_check_search_LDADD = $(TEST_LIBS)
EXTRA_tests_check_search_DEPENDENCIES = ragbatch$(EXEEXT)
