/*
 * config_table.h -- the shape of a row of the key table (private to the
 * config module; see config.h for the public side).
 */
#ifndef RB_CONFIG_TABLE_H
#define RB_CONFIG_TABLE_H

#include "config/config.h"

typedef enum rb_key_type {
    RB_KEY_STRING,    /* char * */
    RB_KEY_PATH,      /* char *, resolved against the setting file's directory */
    RB_KEY_INT,       /* int64_t within [min, max] */
    RB_KEY_BOOL,      /* bool: true/false */
    RB_KEY_LIST,      /* rb_strlist, comma-separated */
    RB_KEY_CHOICE,    /* an enum (int storage): the value of one of `choices` */
    RB_KEY_TOLERANCE, /* rb_tolerance, a choice (none|all) worded as Connect's */
    RB_KEY_DOUBLE     /* double within [dmin, dmax] */
} rb_key_type;

/* One value of a choice key: its name in files and the enum value stored. */
typedef struct rb_config_choice {
    const char *name;
    int value;
} rb_config_choice;

/* One row, written with designated initialisers: a field a row leaves out
 * is zero (no bounds, no choices, optional, not secret). */
/* A check run once every source is read (rb_job_config_check): returns 0,
 * or -1 with an error naming `file`, the keys and their values. */
typedef int (*rb_config_check_fn)(const rb_job_config *cfg, const char *file, rb_error *err);

typedef struct rb_config_key {
    const char *name;
    rb_key_type type;
    size_t field;                    /* offsetof the field in rb_job_config */
    const char *def;                 /* default, as it would be written in a file */
    int64_t min, max;                /* RB_KEY_INT bounds */
    const rb_config_choice *choices; /* CHOICE / TOLERANCE: ends with {NULL, 0} */
    bool required;
    bool secret; /* never printed */
    const char *doc;
    double dmin, dmax;        /* RB_KEY_DOUBLE bounds */
    rb_config_check_fn check; /* a rule of this key alone beyond type and range, or NULL */
} rb_config_key;

extern const rb_config_key rb_config_keys[];
extern const size_t rb_config_key_count;

/* The rows' checks (config_rules.c). */
int rb_config_check_id_field(const rb_job_config *cfg, const char *file, rb_error *err);
int rb_config_check_dlq_replication_factor(const rb_job_config *cfg, const char *file,
                                           rb_error *err);

/* A rule across keys: `keys` names them, for the reader of the list. */
typedef struct rb_config_rule {
    const char *keys;
    rb_config_check_fn check;
} rb_config_rule;

/* Checked in order after the rows' required flags, before the rows' own
 * checks (config_rules.c). */
extern const rb_config_rule rb_config_rules[];
extern const size_t rb_config_rule_count;

/* Another name of a key: Kafka Connect's, where Connect gives it the same
 * meaning.  Setting the alias sets the key (both in one file is "set
 * twice"); the reference lists the alias in the key's description. */
typedef struct rb_config_alias {
    const char *name;
    const char *target;
} rb_config_alias;

extern const rb_config_alias rb_config_aliases[];
extern const size_t rb_config_alias_count;

/* A name of Kafka Connect or of the MongoDB sink connector that ragbatch
 * spells differently, or has no key for: the unknown-key error says what
 * to use instead. */
typedef struct rb_config_foreign {
    const char *name;
    const char *instead;
} rb_config_foreign;

extern const rb_config_foreign rb_config_foreign_names[];
extern const size_t rb_config_foreign_count;

#endif
