/*  error.h -- the one error-code space shared by every layer of mm.
 *
 *  It lives in crypto/, the bottom layer, so that crypto, core, net and cli
 *  all return the same named codes.  0 is success; every fault is a distinct
 *  negative code so that a caller (and a test) can tell *which* failure
 *  happened: a forged entry is not a truncated one is not a replayed one.
 *  Each layer translates LMDB, zmq and errno values at its own edge.
 */
#ifndef MM_ERROR_H
#define MM_ERROR_H

enum {
    MM_OK         =   0,
    MM_ENOMEM     =  -1,  /* out of memory */
    MM_EIO        =  -2,  /* read/write/fsync failed (errno kept by caller) */
    MM_ETRUNC     =  -3,  /* bytes end before the encoding does */
    MM_ETRAILING  =  -4,  /* bytes remain after a complete encoding */
    MM_EMALFORMED =  -5,  /* wrong msgpack type or shape for the schema */
    MM_ENONCANON  =  -6,  /* valid msgpack, but not the one canonical form */
    MM_ETOOBIG    =  -7,  /* a size limit was exceeded */
    MM_EVERSION   =  -8,  /* unknown format version */
    MM_EBADSIG    =  -9,  /* signature does not verify */
    MM_EBADCERT   = -10,  /* device certificate invalid or not the author's */
    MM_ENOCERT    = -11,  /* no certificate known for the author device */
    MM_ESCOPE     = -12,  /* author's identity is not a member of the scope */
    MM_EPREV      = -13,  /* prev hash does not match the feed head */
    MM_ESEQGAP    = -14,  /* seq skips ahead of head + 1 */
    MM_ESEQDUP    = -15,  /* seq at or below the feed head: duplicate or replay */
    MM_EDECRYPT   = -16,  /* AEAD open failed: wrong key or altered box */
    MM_ENOTFOUND  = -17,  /* no such entry, feed, scope, key or home */
    MM_EEXIST     = -18,  /* refusing to overwrite something that exists */
    MM_EAMBIG     = -19,  /* an id prefix matches more than one object */
    MM_EKEYFILE   = -20,  /* key file unreadable, malformed or corrupted */
    MM_EPERM      = -21,  /* file or directory permissions too open / denied */
    MM_EFULL      = -22,  /* disk or store map full */
    MM_ECORRUPT   = -23,  /* store inconsistent or damaged */
    MM_EINVAL     = -24,  /* invalid argument */
    MM_ECHECKSUM  = -25,  /* an id code's checksum does not match */
    MM_EBODY      = -26,  /* decrypted body is not a valid body map */
    MM_EBUSY      = -27,  /* store locked or in use */
    MM_EFORK      = -28,  /* a different entry is stored at that feed position */
    MM_EPROTO     = -29,  /* peer broke the sync protocol */
    MM_EREFUSED   = -30,  /* peer refused us (unknown, blocked, bad invite) */
    MM_ETIMEOUT   = -31,  /* peer did not answer in time */
    MM_EBLOCKED   = -32,  /* the peer or author is blocked */
    MM_EPENDING   = -33,  /* the asker already has a pending question to this mentor */
    MM_ESTATE     = -34,  /* not allowed in the question's current state */
    MM_EROLE      = -35,  /* not allowed to this member (asker vs answerer, mentee vs mentor) */
    MM_EREVOKED   = -36,  /* the device is revoked (its entry or connection comes after it) */
    MM_EFORKED    = -37,  /* this device's key wrote on two homes (a copied home): writing stops */
    MM_ENOIDENTITY= -38,  /* needs the identity key, which only the identity device holds */
    MM_EPASSPHRASE= -39,  /* wrong passphrase, or a damaged backup */
    MM_EQUOTA     = -40,  /* a mailbox's quota for this person is full */
    MM_ETOOMANY   = -41,  /* one person has more device certificates than a device keeps */
    MM_ENOLISTEN  = -42,  /* nothing listens at that address: the connection was refused */
};

/* On every function returning an MM_E code: a caller that drops the code
 * is a compile error (-Werror).  To ignore one on purpose, test it. */
#define MM_NODISCARD __attribute__((warn_unused_result))

/* Short, human description of rc ("bad signature").  Never NULL. */
const char *mm_strerror(int rc);

/* Stable machine name of rc ("MM_EBADSIG"), for --json and tests. */
const char *mm_errname(int rc);

#endif
