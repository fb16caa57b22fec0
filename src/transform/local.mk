libragbatch_a_SOURCES += \
	src/transform/template.c src/transform/template.h

# Event -> document fields (id, version, op, text); owned by the runner's author.
libragbatch_a_SOURCES += src/transform/document.c src/transform/document.h
