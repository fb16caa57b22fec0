libragbatch_a_SOURCES += \
	src/validate/json.c src/validate/json.h \
	src/validate/schema.c src/validate/schema.h
