/*
 * commands.h -- the verbs of the ragbatch command line.
 *
 * Each verb is called by main() with argv[0] set to the verb's name and
 * the verb's own options after it; it returns the process exit status
 * (0 success, 1 failure, 2 usage error) and never calls exit().
 */
#ifndef RB_CLI_COMMANDS_H
#define RB_CLI_COMMANDS_H

int rb_cmd_generate(int argc, char **argv);
int rb_cmd_embed(int argc, char **argv);
int rb_cmd_run(int argc, char **argv);
int rb_cmd_backfill(int argc, char **argv);
int rb_cmd_dlq(int argc, char **argv);
int rb_cmd_check(int argc, char **argv);
int rb_cmd_config(int argc, char **argv);
int rb_cmd_search(int argc, char **argv);
int rb_cmd_index(int argc, char **argv);
int rb_cmd_status(int argc, char **argv);

#endif
