# generate: sources are added as the module is written
libragbatch_a_SOURCES +=
