/*
 * properties.c -- librdkafka's property table as job keys.
 *
 * rd_kafka_conf_properties_show writes Markdown tables (the library's
 * CONFIGURATION.md): a header row "Property | C/P | Range | Default |
 * Importance | Description", a rule row, then one row per property.  The
 * rows are read by their columns; anything else (headings, legends, blank
 * lines) is skipped.
 */
#include "kafka/properties.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

/* Column `index` of a table row, trimmed, into `out`; false when the row
 * has fewer columns. */
static bool column(const char *row, int index, char *out, size_t size) {
    const char *p = row;
    for (int i = 0; i < index; i++) {
        p = strchr(p, '|');
        if (!p) return false;
        p++;
    }
    const char *end = strchr(p, '|');
    if (!end) end = p + strlen(p);
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n')) end--;
    size_t n = (size_t)(end - p);
    if (n >= size) n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static const char *reader_name(const char *cp) {
    if (strcmp(cp, "C") == 0) return "consumer";
    if (strcmp(cp, "P") == 0) return "producer";
    return "both"; /* "*" and "C/P" */
}

int rb_kafka_properties_print(FILE *out, rb_error *err) {
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return rb_error_set(err, RB_ERR_NOMEM, RB_STAGE_CONFIG,
                            "listing librdkafka's properties: out of memory");
    rd_kafka_conf_properties_show(m);
    if (fclose(m) != 0) {
        free(text);
        return rb_error_set(err, RB_ERR_NOMEM, RB_STAGE_CONFIG,
                            "listing librdkafka's properties: out of memory");
    }
    size_t listed = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char name[256], cp[16], importance[32] = "";
        if (!column(line, 0, name, sizeof name) || !column(line, 1, cp, sizeof cp)) continue;
        /* The importance column follows the default, whose text may hold a
         * '|' of its own (sasl.kerberos.kinit.cmd's "... || kinit ..."):
         * the first of the later columns that is an importance. */
        for (int i = 4; i < 12 && !importance[0]; i++) {
            char cell[32];
            if (!column(line, i, cell, sizeof cell)) break;
            if (strcmp(cell, "high") == 0 || strcmp(cell, "medium") == 0 ||
                strcmp(cell, "low") == 0)
                snprintf(importance, sizeof importance, "%s", cell);
        }
        if (!importance[0]) continue;
        /* the header row and the rule row under it */
        if (strcmp(name, "Property") == 0 || name[0] == '-' || name[0] == '\0') continue;
        fprintf(out, "kafka.%-46s %-9s %s\n", name, reader_name(cp), importance);
        listed++;
    }
    free(text);
    if (listed == 0)
        return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_CONFIG,
                            "librdkafka %s listed no configuration property (its table format "
                            "changed?)",
                            rd_kafka_version_str());
    return 0;
}
