# The command line: main() dispatches to one function per verb.
ragbatch_SOURCES += src/cli/main.c src/cli/cmd_run.c src/cli/cmd_search.c src/cli/cmd_dlq.c \
	src/cli/cmd_index.c src/cli/cmd_check.c src/cli/cmd_status.c \
	src/cli/job_args.c src/cli/job_args.h src/cli/commands.h
# The one option parser of every verb, and the embed and generate verbs
# (check_embed and check_generate call them): in the library.
libragbatch_a_SOURCES += src/cli/args.c src/cli/args.h src/cli/cmd_embed.c \
	src/cli/cmd_generate.c src/cli/commands.h

# The parser on its own, and every verb's options through the binary.
check_PROGRAMS += tests/check_cli
TESTS += tests/check_cli
tests_check_cli_SOURCES = tests/check_cli.c tests/spawn.c tests/spawn.h
tests_check_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_cli_LDADD = $(TEST_LIBS)
EXTRA_tests_check_cli_DEPENDENCIES = ragbatch$(EXEEXT)

# bash completion (completion/ragbatch.bash), run by bash against the binary
check_PROGRAMS += tests/check_completion
TESTS += tests/check_completion
tests_check_completion_SOURCES = tests/check_completion.c tests/spawn.c tests/spawn.h
tests_check_completion_CFLAGS = $(TEST_CFLAGS)
tests_check_completion_LDADD = $(TEST_LIBS)
EXTRA_tests_check_completion_DEPENDENCIES = ragbatch$(EXEEXT)
