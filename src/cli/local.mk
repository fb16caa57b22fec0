# The command line: main() dispatches to one function per verb.
ragbatch_SOURCES += src/cli/main.c src/cli/cmd_run.c src/cli/cmd_search.c src/cli/cmd_dlq.c \
	src/cli/cmd_index.c \
	src/cli/job_args.c src/cli/job_args.h src/cli/commands.h
