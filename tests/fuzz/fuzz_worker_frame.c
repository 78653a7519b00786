/*
 * fuzz_worker_frame.c - the supervisor's decoder of worker answers. A worker
 * parses hostile images and may be subverted: nothing it sends may crash the
 * supervisor or pass validation with an out-of-range field.
 */
#include <stdint.h>
#include <string.h>

#include "intake_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sv_ocr_result r;
    if (worker_frame_decode(data, size, &r) == 0) {
        /* Whatever passed must be safe to print as C strings. */
        if (strlen(r.mrn) > SV_MRN_MAX || strlen(r.type) > SV_TYPE_MAX)
            __builtin_trap();
        if (r.n_candidates > SV_OCR_MAX_CANDIDATES)
            __builtin_trap();
    }
    return 0;
}
