libragbatch_a_SOURCES += \
	src/transform/template.c src/transform/template.h
