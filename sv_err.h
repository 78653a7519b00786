/*
 * sv_err.h - the one table of scanvault error codes.
 *
 * Functions that can fail return int: 0 on success, a negative SV_E* code on
 * failure. SV_EERRNO means "see errno". sv_strerror() gives the message for a
 * code; callers add what failed and on which docid or path (never a patient
 * field). New codes are appended at the end of the table; codes never change.
 */
#ifndef SV_ERR_H
#define SV_ERR_H

#define SV_ERRORS(X)                                                     \
    X(SV_OK, 0, "success")                                               \
    X(SV_ENOMEM, -1, "out of memory")                                    \
    X(SV_EERRNO, -2, "system error")                                     \
    X(SV_EINVAL, -3, "invalid argument")                                 \
    X(SV_ECONFIG, -4, "invalid configuration")                           \
    X(SV_EFORMAT, -5, "unsupported or malformed input")                  \
    X(SV_ELIMIT, -6, "input exceeds a configured limit")                 \
    X(SV_EOCR, -7, "OCR engine failure")                                 \
    X(SV_EKEY, -8, "key error")                                          \
    X(SV_EAUTH, -9, "authentication failed (tampered data or wrong key)") \
    X(SV_EINDEX, -10, "index error")                                     \
    X(SV_ENOTFOUND, -11, "not found")                                    \
    X(SV_EEXIST, -12, "already exists")                                  \
    X(SV_EVERSION, -13, "unsupported version")                           \
    X(SV_ETRUNC, -14, "truncated input")                                 \
    X(SV_EWORKER, -15, "worker process failed")                          \
    X(SV_ETIMEOUT, -16, "timed out")                                     \
    X(SV_EFULL, -17, "storage full")                                     \
    X(SV_EPERM, -18, "permission denied")

enum sv_err {
#define SV_ERR_ENUM(name, value, text) name = value,
    SV_ERRORS(SV_ERR_ENUM)
#undef SV_ERR_ENUM
};

/* The message for an SV_E* code; never NULL. For SV_EERRNO the caller
 * usually adds strerror(errno). */
static inline const char *sv_strerror(int code)
{
    switch (code) {
#define SV_ERR_CASE(name, value, text) \
    case value:                        \
        return text;
        SV_ERRORS(SV_ERR_CASE)
#undef SV_ERR_CASE
    default:
        return "unknown error";
    }
}

#endif
