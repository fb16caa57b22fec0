libragbatch_a_SOURCES += \
	src/runner/runner.c src/runner/runner.h \
	src/runner/runner_internal.h src/runner/stages.c \
	src/runner/progress.c src/runner/progress.h
