#include "crypto/error.h"

static const struct { int rc; const char *name; const char *text; } errors[] = {
    { MM_OK,         "MM_OK",         "success" },
    { MM_ENOMEM,     "MM_ENOMEM",     "out of memory" },
    { MM_EIO,        "MM_EIO",        "input/output error" },
    { MM_ETRUNC,     "MM_ETRUNC",     "truncated data" },
    { MM_ETRAILING,  "MM_ETRAILING",  "trailing bytes after data" },
    { MM_EMALFORMED, "MM_EMALFORMED", "malformed encoding" },
    { MM_ENONCANON,  "MM_ENONCANON",  "non-canonical encoding" },
    { MM_ETOOBIG,    "MM_ETOOBIG",    "size limit exceeded" },
    { MM_EVERSION,   "MM_EVERSION",   "unsupported format version" },
    { MM_EBADSIG,    "MM_EBADSIG",    "bad signature" },
    { MM_EBADCERT,   "MM_EBADCERT",   "invalid device certificate" },
    { MM_ENOCERT,    "MM_ENOCERT",    "unknown author device" },
    { MM_ESCOPE,     "MM_ESCOPE",     "author is not a member of the scope" },
    { MM_EPREV,      "MM_EPREV",      "hash link does not match the previous entry" },
    { MM_ESEQGAP,    "MM_ESEQGAP",    "gap in sequence numbers" },
    { MM_ESEQDUP,    "MM_ESEQDUP",    "duplicate or replayed sequence number" },
    { MM_EDECRYPT,   "MM_EDECRYPT",   "decryption failed" },
    { MM_ENOTFOUND,  "MM_ENOTFOUND",  "not found" },
    { MM_EEXIST,     "MM_EEXIST",     "already exists" },
    { MM_EAMBIG,     "MM_EAMBIG",     "ambiguous id prefix" },
    { MM_EKEYFILE,   "MM_EKEYFILE",   "key file unreadable or corrupted" },
    { MM_EPERM,      "MM_EPERM",      "permission denied or permissions too open" },
    { MM_EFULL,      "MM_EFULL",      "disk or store full" },
    { MM_ECORRUPT,   "MM_ECORRUPT",   "store is corrupted" },
    { MM_EINVAL,     "MM_EINVAL",     "invalid argument" },
    { MM_ECHECKSUM,  "MM_ECHECKSUM",  "checksum mismatch" },
    { MM_EBODY,      "MM_EBODY",      "malformed entry body" },
    { MM_EBUSY,      "MM_EBUSY",      "store is busy" },
    { MM_EFORK,      "MM_EFORK",      "conflicting entry at a stored position (fork)" },
    { MM_EPROTO,     "MM_EPROTO",     "protocol violation by peer" },
    { MM_EREFUSED,   "MM_EREFUSED",   "refused by peer" },
    { MM_ETIMEOUT,   "MM_ETIMEOUT",   "peer did not answer in time" },
    { MM_EBLOCKED,   "MM_EBLOCKED",   "peer is blocked" },
    { MM_EPENDING,   "MM_EPENDING",   "a question to this mentor is still pending" },
    { MM_ESTATE,     "MM_ESTATE",     "not allowed in the question's state" },
    { MM_EROLE,      "MM_EROLE",      "not allowed in your role" },
    { MM_EREVOKED,   "MM_EREVOKED",   "device is revoked" },
    { MM_EFORKED,    "MM_EFORKED",    "this device key was used on another home (copied home)" },
    { MM_ENOIDENTITY,"MM_ENOIDENTITY","needs the identity key (on the identity device)" },
    { MM_EPASSPHRASE,"MM_EPASSPHRASE","wrong passphrase or damaged backup" },
    { MM_EQUOTA,     "MM_EQUOTA",     "the mailbox is full for this person" },
    { MM_ETOOMANY,   "MM_ETOOMANY",   "too many devices for one person" },
    { MM_ENOLISTEN,  "MM_ENOLISTEN",  "nothing listens at that address" },
};

static int find(int rc)
{
    for (unsigned i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].rc == rc)
            return (int) i;
    return -1;
}

const char *mm_strerror(int rc)
{
    int i = find(rc);
    return i < 0 ? "unknown error" : errors[i].text;
}

const char *mm_errname(int rc)
{
    int i = find(rc);
    return i < 0 ? "MM_EUNKNOWN" : errors[i].name;
}
