# metrics: counters, gauges and histograms in Prometheus text format, and
# the /metrics, /healthz, /readyz HTTP endpoint on its own thread.
libragbatch_a_SOURCES += \
	src/metrics/metrics.c src/metrics/metrics.h \
	src/metrics/http.c \
	src/metrics/readiness.c src/metrics/readiness.h \
	src/metrics/scrape.c src/metrics/scrape.h

check_PROGRAMS += tests/check_metrics
TESTS += tests/check_metrics
tests_check_metrics_SOURCES = tests/check_metrics.c tests/expo.c tests/expo.h \
	tests/promtool.c tests/promtool.h
tests_check_metrics_CFLAGS = $(TEST_CFLAGS)
tests_check_metrics_LDADD = $(TEST_LIBS) -lpthread
