libragbatch_a_SOURCES += \
	src/sink/sink.c src/sink/sink.h \
	src/sink/profile.c src/sink/indexes.c \
	src/sink/write.c src/sink/sink_internal.h src/sink/write_ctx.h \
	src/sink/decide.c src/sink/read.c \
	src/sink/bson_doc.c src/sink/bson_doc.h \
	src/sink/scan.c src/sink/chunks.c
# The runner's view of the sink: a thin vtable (port.h).
libragbatch_a_SOURCES += src/sink/port.c src/sink/port.h

# Needs a MongoDB-wire server: RAGBATCH_MONGO_URI (see scripts/servers.sh).
check_PROGRAMS += tests/check_sink
TESTS += tests/check_sink
tests_check_sink_SOURCES = tests/check_sink.c
tests_check_sink_CFLAGS = $(TEST_CFLAGS)
tests_check_sink_LDADD = $(TEST_LIBS)
