libragbatch_a_SOURCES += \
	src/embed/embedder.c src/embed/embedder.h
