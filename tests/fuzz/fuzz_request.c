/*
 * fuzz_request.c - the service's decoder of requests (intake/proto.c). The
 * bytes come from any local user who can reach the socket and go to the
 * process that holds the key: nothing they send may crash it, read out of
 * bounds, or pass the decoder with a field its kind does not allow. The
 * same bytes are also decoded as an answer (the client's side).
 */
#include <stdint.h>
#include <string.h>

#include "intake_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever passed must read back through the typed getters within bounds. */
static void read_back(const proto_msg *m, const uint8_t *data, size_t size)
{
    char text[SV_INTAKE_PATH_MAX + 16384];
    int64_t numbers[PROTO_NUMBERS_MAX];
    for (unsigned tag = 1; tag < PROTO_TAG_LIMIT; tag++) {
        if (!proto_has(m, tag))
            continue;
        const uint8_t *at = m->field[tag].at;
        if (at < data + PROTO_HEADER_LEN || m->field[tag].len > size - (size_t)(at - data))
            __builtin_trap(); /* a field outside the message */
        if (proto_str(m, tag, text, sizeof text) == 0 && strlen(text) > m->field[tag].len)
            __builtin_trap();
        size_t len = 0;
        const uint8_t *bytes = proto_bytes(m, tag, &len);
        if (bytes != NULL && len > PROTO_DATA_MAX)
            __builtin_trap();
        if (proto_numbers(m, tag, numbers, PROTO_NUMBERS_MAX) > PROTO_NUMBERS_MAX)
            __builtin_trap();
        (void)proto_u8(m, tag);
        (void)proto_i32(m, tag);
        (void)proto_u32(m, tag);
        (void)proto_i64(m, tag);
        (void)proto_u64(m, tag);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proto_msg m;
    char why[256];
    if (proto_decode(data, size, true, &m, why, sizeof why) == 0) {
        if (m.type == 0 || m.type >= 64)
            __builtin_trap(); /* an answer type passed as a request */
        read_back(&m, data, size);
    }
    if (proto_decode(data, size, false, &m, why, sizeof why) == 0) {
        if (m.type < 64)
            __builtin_trap();
        read_back(&m, data, size);
    }
    if (size >= PROTO_HEADER_LEN) {
        uint32_t len = 0;
        if (proto_check_header(data, &len, why, sizeof why) == 0 && len > PROTO_PAYLOAD_MAX)
            __builtin_trap();
    }
    return 0;
}
