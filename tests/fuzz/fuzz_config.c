/*
 * fuzz_config.c - the configuration parser on arbitrary bytes: the INI
 * syntax (sections, keys, comments, UTF-8, line limits) and every value
 * parser of [mrn], [types] and [ocr] behind it, then the cross-checks.
 * A configuration is not patient data, but a broken one must be refused, never
 * crash the service or be half-applied.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ocr_internal.h"
#include "sv_intake.h"
#include "sv_ocr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int set_rules(void *ctx, const char *section, const char *key, const char *value,
                     char *err, size_t err_len)
{
    return sv_ocr_rules_set(ctx, section, key, value, err, err_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sv_ocr_rules *rules = NULL;
    if (sv_ocr_rules_create(&rules) != 0)
        return 0;
    const sv_intake_config_section sections[] = {
        {"mrn", set_rules, rules},
        {"types", set_rules, rules},
        {"ocr", set_rules, rules},
    };
    char err[512];
    int rc = sv_intake_config_parse("fuzz", (const char *)data, size, sections,
                                    sizeof sections / sizeof sections[0], err, sizeof err);
    if (rc != 0 && (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL))
        __builtin_trap(); /* every refusal carries a message */
    /* The known-MRN list would be read from a path the input names: keep the
     * fuzzer off the file system and check the rest. */
    if (rc == 0 && rules->known_mrns_path[0] == '\0') {
        rc = sv_ocr_rules_finish(rules, err, sizeof err);
        if (rc == 0 && (rules->min_length > rules->max_length || rules->n_labels == 0))
            __builtin_trap();
    }
    sv_ocr_rules_destroy(rules);
    return 0;
}
