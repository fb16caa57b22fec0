libragbatch_a_SOURCES += src/config/properties.c src/config/properties.h \
	src/config/providers.c src/config/providers.h
libragbatch_a_SOURCES += \
	src/config/config.c src/config/config.h \
	src/config/config_keys.c src/config/config_table.h \
	src/config/config_rules.c \
	src/config/trace.c src/config/trace.h

check_PROGRAMS += tests/check_config
TESTS += tests/check_config
tests_check_config_SOURCES = tests/check_config.c
tests_check_config_CFLAGS = $(TEST_CFLAGS)
tests_check_config_LDADD = $(TEST_LIBS)

# java.util.Properties text (Connect's ${file:...} provider), checked against the JDK.
check_PROGRAMS += tests/check_properties
TESTS += tests/check_properties
tests_check_properties_SOURCES = tests/check_properties.c tests/spawn.c tests/spawn.h
tests_check_properties_CFLAGS = $(TEST_CFLAGS)
tests_check_properties_LDADD = $(TEST_LIBS)
