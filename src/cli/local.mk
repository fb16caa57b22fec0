ragbatch_SOURCES += src/cli/main.c
