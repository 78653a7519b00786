/*
 * docid.c - document ids. A docid names a vault object, a spool file and an
 * index record, so it is built from randomness only: never from the content,
 * the MRN or the scanner's file name (any of which could leak through a file
 * listing).
 *
 * Format: [prefix "-"] random, where prefix is 1..8 of [a-z0-9] (a site, so
 * several intake nodes can share an object store) and random is 26
 * characters of lowercase RFC 4648 base32 (a-z2-7) holding 128 random bits,
 * most significant first; the first character carries only 3 bits, so it is
 * one of a-h. The first two random characters pick the fan-out directory
 * objects/<2 chars>/ (256 of them).
 */
#include <string.h>

#include "crypto_internal.h"

static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";

static bool is_base32(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

static bool is_prefix_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool prefix_ok(const char *p, size_t len)
{
    if (len == 0 || len > SV_DOCID_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_prefix_char(p[i]))
            return false;
    return true;
}

static bool random_part_ok(const char *r)
{
    if (strnlen(r, SV_DOCID_RANDOM_LEN + 1) != SV_DOCID_RANDOM_LEN)
        return false;
    if (r[0] < 'a' || r[0] > 'h')
        return false;
    for (size_t i = 1; i < SV_DOCID_RANDOM_LEN; i++)
        if (!is_base32(r[i]))
            return false;
    return true;
}

bool sv_docid_is_valid(const char *docid)
{
    if (docid == NULL)
        return false;
    size_t len = strnlen(docid, SV_DOCID_MAX + 1);
    if (len > SV_DOCID_MAX)
        return false;
    const char *dash = memchr(docid, '-', len);
    if (dash == NULL)
        return random_part_ok(docid);
    return prefix_ok(docid, (size_t)(dash - docid)) && random_part_ok(dash + 1);
}

int sv_docid_generate(const char *site_prefix, char out[SV_DOCID_MAX + 1])
{
    out[0] = '\0';
    size_t plen = site_prefix == NULL ? 0 : strnlen(site_prefix, SV_DOCID_PREFIX_MAX + 1);
    if (plen > 0 && !prefix_ok(site_prefix, plen))
        return cr_fail(SV_EINVAL, "site prefix must be 1..%d of [a-z0-9]", SV_DOCID_PREFIX_MAX);
    uint8_t rnd[16];
    gcry_randomize(rnd, sizeof rnd, GCRY_STRONG_RANDOM);
    size_t at = 0;
    if (plen > 0) {
        memcpy(out, site_prefix, plen);
        out[plen] = '-';
        at = plen + 1;
    }
    /* 128 bits as 26 base32 digits: 3 bits, then 25 x 5 bits. */
    unsigned acc = 0, bits = 0;
    size_t byte = 0;
    for (size_t i = 0; i < SV_DOCID_RANDOM_LEN; i++) {
        unsigned want = i == 0 ? 3 : 5;
        while (bits < want) {
            acc = (acc << 8) | rnd[byte++];
            bits += 8;
        }
        out[at++] = base32[(acc >> (bits - want)) & ((1u << want) - 1)];
        bits -= want;
        acc &= (1u << bits) - 1;
    }
    out[at] = '\0';
    cr_wipe(rnd, sizeof rnd);
    return 0;
}
