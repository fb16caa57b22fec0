# The benchmark programs.  Built with everything else (same warnings, so
# they cannot rot), never installed; each bench/*/run.sh makes the ones it
# needs and runs them from the build tree (bench/README.md).
BENCH_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tests
BENCH_SERVERS = tests/servers/embed_server.c tests/servers/embed_server.h \
	tests/servers/http_server.c tests/servers/http_server.h

# The product document the sink benches write (bench/sink/fixture.h).
BENCH_FIXTURE = bench/sink/fixture.c bench/sink/fixture.h

noinst_PROGRAMS += bench/avro/bench_avro bench/chunk/bench_recall bench/crash/crash_tool bench/embed/bench_embed bench/embed/peak \
	bench/embed/int8_agree \
	bench/http/bench_http bench/json/bench_json bench/json/bench_validate bench/pipeline/bench_texts \
	bench/pipeline/freshness bench/search/bench_search bench/sink/flat bench/sink/probe \
	bench/spark/embed_serve bench/spark/treerss bench/spark/floor \
	bench/tokenize/bench_tokenize

bench_avro_bench_avro_LDADD = $(RAGBATCH_LIBS)
bench_chunk_bench_recall_LDADD = $(RAGBATCH_LIBS)
bench_crash_crash_tool_LDADD = $(RAGBATCH_LIBS)
bench_embed_bench_embed_LDADD = $(RAGBATCH_LIBS)
bench_embed_peak_LDADD = -lm
bench_tokenize_bench_tokenize_LDADD = $(RAGBATCH_LIBS)
bench_embed_int8_agree_LDADD = $(RAGBATCH_LIBS)
bench_http_bench_http_SOURCES = bench/http/bench_http.c $(BENCH_SERVERS)
bench_http_bench_http_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_http_bench_http_LDADD = $(RAGBATCH_LIBS) -lpthread
bench_json_bench_json_LDADD = $(RAGBATCH_LIBS)
bench_json_bench_validate_LDADD = $(RAGBATCH_LIBS)
bench_pipeline_bench_texts_LDADD = $(RAGBATCH_LIBS)
bench_pipeline_freshness_LDADD = $(MONGOC_LIBS) -lm
bench_search_bench_search_LDADD = $(RAGBATCH_LIBS)
bench_sink_flat_SOURCES = bench/sink/flat.c $(BENCH_FIXTURE)
bench_sink_flat_LDADD = $(RAGBATCH_LIBS)
bench_sink_probe_SOURCES = bench/sink/probe.c $(BENCH_FIXTURE)
bench_sink_probe_LDADD = $(RAGBATCH_LIBS) -lpthread
bench_spark_embed_serve_SOURCES = bench/spark/embed_serve.c $(BENCH_SERVERS)
bench_spark_embed_serve_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_spark_embed_serve_LDADD = $(RAGBATCH_LIBS) -lpthread
bench_spark_floor_SOURCES = bench/spark/floor.c $(BENCH_FIXTURE)
bench_spark_floor_LDADD = $(RAGBATCH_LIBS) -lpthread
