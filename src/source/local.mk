libragbatch_a_SOURCES += src/source/source.c src/source/source.h
