# The libFuzzer target of the event path (scripts/fuzz.sh configures a
# clang build with --enable-fuzz and makes only this).  It compiles the
# sources it exercises itself, instrumented for libFuzzer, ASan and UBSan,
# rather than linking the uninstrumented library.
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_event
tests_fuzz_fuzz_event_SOURCES = tests/fuzz/fuzz_event.c \
	src/common/buf.c src/common/error.c src/common/redact.c src/common/suggest.c \
	src/json/json.c src/json/json_tokens.c src/common/rfc3339.c \
	src/validate/schema.c src/validate/schema_validate.c src/validate/schema_ref.c \
	src/validate/schema_pattern.c src/validate/schema_decimal.c src/validate/schema_format.c \
	src/validate/schema_equal.c src/transform/template.c src/transform/document.c
tests_fuzz_fuzz_event_CPPFLAGS = $(AM_CPPFLAGS) -DRB_SOURCE_DIR='"$(abs_top_srcdir)"'
tests_fuzz_fuzz_event_CFLAGS = -std=c11 $(WARN_CFLAGS) $(FUZZ_CFLAGS) $(PCRE2_CFLAGS)
tests_fuzz_fuzz_event_LDFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_event_LDADD = $(CRYPTO_LIBS) $(PCRE2_LIBS) -lm

# Avro bodies (FUZZ_TARGET=fuzz_avro scripts/fuzz.sh): the scan, libavro-c's
# read (the system library, uninstrumented) and the JSON writer.
noinst_PROGRAMS += tests/fuzz/fuzz_avro
tests_fuzz_fuzz_avro_SOURCES = tests/fuzz/fuzz_avro.c \
	src/common/buf.c src/common/error.c src/common/redact.c \
	src/json/json.c src/json/json_tokens.c src/common/decimal.c src/common/temporal.c \
	src/avro/schema.c src/avro/scan.c src/avro/read.c
tests_fuzz_fuzz_avro_CPPFLAGS = $(AM_CPPFLAGS) -DRB_SOURCE_DIR='"$(abs_top_srcdir)"'
tests_fuzz_fuzz_avro_CFLAGS = -std=c11 $(WARN_CFLAGS) $(FUZZ_CFLAGS) $(AVRO_CFLAGS)
tests_fuzz_fuzz_avro_LDFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_avro_LDADD = $(AVRO_LIBS) $(CRYPTO_LIBS) -lpthread -lm
endif
