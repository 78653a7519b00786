/*
 * config.c - what every subcommand that touches the data directory needs:
 * the configuration file (rules and settings) and the data directory and
 * key, where command-line options override the file.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_load_config(const char *config_path, sv_ocr_rules **rules_out,
                    sv_intake_settings *settings)
{
    *rules_out = NULL;
    sv_intake_settings_defaults(settings);
    sv_ocr_rules *rules = NULL;
    if (sv_ocr_rules_create(&rules) != 0) {
        cli_error("out of memory");
        return SV_EXIT_ENV;
    }
    bool is_explicit = config_path != NULL;
    if (config_path == NULL)
        config_path = getenv("SCANVAULT_CONFIG");
    if (config_path != NULL && *config_path == '\0')
        config_path = NULL;
    is_explicit = is_explicit || config_path != NULL;
    if (config_path == NULL && access(CLI_DEFAULT_CONFIG, F_OK) == 0)
        config_path = CLI_DEFAULT_CONFIG;
    char err[512] = "";
    int rc;
    if (config_path != NULL)
        rc = sv_intake_config_load_all(config_path, rules, settings, err, sizeof err);
    else
        rc = sv_ocr_rules_finish(rules, err, sizeof err);
    if (rc != 0) {
        cli_error("%s%s", err[0] ? err : sv_strerror(rc),
                  is_explicit ? "" : " (the default configuration)");
        sv_ocr_rules_destroy(rules);
        return SV_EXIT_ENV;
    }
    *rules_out = rules;
    return SV_EXIT_OK;
}

int cli_apply_storage_options(sv_intake_settings *settings, const char *data_dir,
                              const char *key_file)
{
    const char *env_data = getenv("SCANVAULT_DATA");
    if (data_dir == NULL && env_data != NULL && env_data[0] != '\0')
        data_dir = env_data;
    if (data_dir != NULL) {
        size_t len = strlen(data_dir);
        if (len == 0 || len >= sizeof settings->data_dir) {
            cli_error("--data: give a directory (at most %zu bytes)",
                      sizeof settings->data_dir - 1);
            return SV_EXIT_USAGE;
        }
        memcpy(settings->data_dir, data_dir, len + 1);
    }
    if (key_file != NULL) {
        size_t len = strlen(key_file);
        if (len == 0 || len >= sizeof settings->key_file) {
            cli_error("--key: give a file (at most %zu bytes)", sizeof settings->key_file - 1);
            return SV_EXIT_USAGE;
        }
        memcpy(settings->key_file, key_file, len + 1);
    }
    return SV_EXIT_OK;
}

int cli_open_store(const sv_intake_settings *settings, bool read_only, sv_store **out)
{
    if (sv_crypto_global_init() != 0) {
        cli_error("%s", sv_crypto_last_error());
        return SV_EXIT_ENV;
    }
    sv_store_options o = {.data_dir = settings->data_dir,
                          .key_file = settings->key_file,
                          .read_only = read_only};
    if (sv_store_create(out, &o) != 0) {
        cli_error("%s", sv_intake_last_error());
        return SV_EXIT_ENV;
    }
    return SV_EXIT_OK;
}

int cli_load_storage_settings(const char *config_path, const char *data_dir, const char *key_file,
                              sv_intake_settings *settings)
{
    sv_ocr_rules *rules = NULL;
    int code = cli_load_config(config_path, &rules, settings);
    sv_ocr_rules_destroy(rules); /* only the storage settings are needed */
    if (code == SV_EXIT_OK)
        code = cli_apply_storage_options(settings, data_dir, key_file);
    return code;
}

int cli_open_data_read_only(const char *config_path, const char *data_dir, const char *key_file,
                            sv_store **out)
{
    *out = NULL;
    sv_intake_settings settings;
    int code = cli_load_storage_settings(config_path, data_dir, key_file, &settings);
    if (code == SV_EXIT_OK)
        code = cli_open_store(&settings, true, out);
    return code;
}
