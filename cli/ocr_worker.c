/*
 * ocr_worker.c - where the scanvault command finds its OCR worker program:
 * scanvault-ocr in the directory of the running scanvault executable (both
 * are built into build/cli/ and installed to the same bin/).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_ocr_worker_path(char *buf, size_t len)
{
    int rc = sv_workers_find_program(buf, len);
    if (rc != 0) {
        cli_error("cannot locate the OCR worker program (scanvault-ocr beside scanvault): %s",
                  rc == SV_EERRNO ? strerror(errno) : sv_strerror(rc));
        return SV_EXIT_ENV;
    }
    if (access(buf, X_OK) != 0) {
        cli_error("cannot run the OCR worker '%s': %s; it is installed beside scanvault",
                  buf, strerror(errno));
        return SV_EXIT_ENV;
    }
    return SV_EXIT_OK;
}
