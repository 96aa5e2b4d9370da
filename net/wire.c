#include <stdlib.h>
#include <string.h>
#include "net/wire.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/endpoint.h"
#include "core/revoke.h"
#include "core/mailbox.h"
#include "crypto/error.h"

static const struct { mm_msg_type_t type; const char *name; uint32_t fields; } types[] = {
    { MM_MSG_HELLO, "hello", 4 },     { MM_MSG_HAVE, "have", 4 },
    { MM_MSG_CERT, "cert", 2 },       { MM_MSG_ENTRIES, "entries", 2 },
    { MM_MSG_ACK, "ack", 2 },         { MM_MSG_DONE, "done", 1 },
    { MM_MSG_ERROR, "error", 3 },     { MM_MSG_ACCEPT, "accept", 4 },
    { MM_MSG_WELCOME, "welcome", 6 }, { MM_MSG_FORK, "fork", 2 },
    { MM_MSG_DEVICES, "devices", 4 }, { MM_MSG_SCOPES, "scopes", 3 },
    { MM_MSG_LINK, "link", 3 },       { MM_MSG_CONSENT, "consent", 2 },
    { MM_MSG_CERTIFY, "certify", 3 },
};

static const uint32_t devices_max[3] = {
    MM_DEVICES_CERTS_MAX, MM_DEVICES_REVOKES_MAX, MM_DEVICES_ENDPOINTS_MAX,
};
static const uint32_t devices_len[3] = { MM_CERT_MAX, MM_REVOKE_MAX, MM_ENDPOINT_STMT_MAX };

static const char *type_name(mm_msg_type_t t)
{
    for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == t)
            return types[i].name;
    return "?";
}

static int str_max(mm_mp_reader_t *r, const char **s, uint32_t *n, uint32_t max)
{
    int rc = mm_mp_str(r, s, n);
    return rc ? rc : *n > max ? MM_ETOOBIG : MM_OK;
}

static int bin_max(mm_mp_reader_t *r, const uint8_t **p, uint32_t *n, uint32_t max)
{
    int rc = mm_mp_bin(r, p, n);
    return rc ? rc : *n > max ? MM_ETOOBIG : MM_OK;
}

static int decode_have(mm_mp_reader_t *r, mm_msg_t *m)
{
    uint32_t n, k;
    uint64_t seq;
    const uint8_t *b;
    int rc;
    if ((rc = mm_mp_bool(r, &m->u.have.last)) || (rc = mm_mp_array(r, &n)))
        return rc;
    if (n > MM_HAVE_MAX)
        return MM_ETOOBIG;
    m->u.have.n = n;
    m->have_pos = r->p;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *author, *scope, *head;
        if ((rc = mm_mp_array(r, &k)))
            return rc;
        if (k != 4)
            return MM_EMALFORMED;
        if ((rc = mm_mp_bin_n(r, &author, 32)) || (rc = mm_mp_bin_n(r, &scope, 32))
            || (rc = mm_mp_uint(r, &seq)) || (rc = mm_mp_bin_n(r, &head, 32)))
            return rc;
    }
    m->have_end = r->p;
    if ((rc = mm_mp_array(r, &n)))
        return rc;
    if (n > MM_REFUSE_MAX)
        return MM_ETOOBIG;
    m->u.have.nrefuse = n;
    m->u.have.refuse = r->p;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = mm_mp_bin_n(r, &b, 32)))
            return rc;
    m->u.have.refuselen = (size_t) (r->p - m->u.have.refuse);
    return MM_OK;
}

int mm_wire_have_next(mm_msg_t *m, mm_have_t *h)
{
    mm_mp_reader_t r;
    uint32_t k;
    const uint8_t *a, *s, *hd;
    if (m->have_pos >= m->have_end)
        return 0;
    mm_mp_reader_init(&r, m->have_pos, (size_t) (m->have_end - m->have_pos));
    /* validated by mm_wire_decode: a failure here would be our own bug */
    if (mm_mp_array(&r, &k) || mm_mp_bin_n(&r, &a, 32) || mm_mp_bin_n(&r, &s, 32)
        || mm_mp_uint(&r, &h->seq) || mm_mp_bin_n(&r, &hd, 32))
        return 0;
    memcpy(h->head, hd, 32);
    memcpy(h->author, a, 32);
    memcpy(h->scope, s, 32);
    m->have_pos = r.p;
    return 1;
}

const uint8_t *mm_wire_refuse(const mm_msg_t *m, uint32_t i)
{
    return m->u.have.refuse + (size_t) i * 34 + 2;      /* each is c4 20 + 32 bytes */
}

static int decode_devices(mm_mp_reader_t *r, mm_msg_t *m)
{
    for (int l = 0; l < 3; l++) {
        uint32_t n, bl;
        const uint8_t *b;
        int rc = mm_mp_array(r, &n);
        if (rc)
            return rc;
        if (n > devices_max[l])
            return MM_ETOOBIG;
        m->u.devices.n[l] = n;
        m->u.devices.pos[l] = r->p;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = bin_max(r, &b, &bl, devices_len[l])))
                return rc;
        m->u.devices.end[l] = r->p;
    }
    return MM_OK;
}

int mm_wire_devices_next(mm_msg_t *m, int list, const uint8_t **p, uint32_t *len)
{
    mm_mp_reader_t r;
    if (list < 0 || list > 2 || m->u.devices.pos[list] >= m->u.devices.end[list])
        return 0;
    mm_mp_reader_init(&r, m->u.devices.pos[list],
                      (size_t) (m->u.devices.end[list] - m->u.devices.pos[list]));
    if (mm_mp_bin(&r, p, len))      /* validated by mm_wire_decode */
        return 0;
    m->u.devices.pos[list] = r.p;
    return 1;
}

/* SCOPES: [scope bin8(32), members array (1..2) of bin8(32)]..., then
 * blocked identities; checked whole here, re-read by mm_wire_scopes_told. */
static int decode_scopes(mm_mp_reader_t *r, mm_msg_t *m)
{
    uint32_t n, k, nm;
    const uint8_t *b;
    int rc = mm_mp_array(r, &n);
    if (rc)
        return rc;
    if (n > MM_MAILBOX_SCOPES_MAX)
        return MM_ETOOBIG;
    m->u.scopes.n = n;
    m->u.scopes.pos = r->p;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = mm_mp_array(r, &k)))
            return rc;
        if (k != 2)
            return MM_EMALFORMED;
        if ((rc = mm_mp_bin_n(r, &b, 32)) || (rc = mm_mp_array(r, &nm)))
            return rc;
        if (nm < 1 || nm > 2)
            return MM_EMALFORMED;
        for (uint32_t j = 0; j < nm; j++)
            if ((rc = mm_mp_bin_n(r, &b, 32)))
                return rc;
    }
    if ((rc = mm_mp_array(r, &n)))
        return rc;
    if (n > MM_MAILBOX_BLOCKED_MAX)
        return MM_ETOOBIG;
    m->u.scopes.nblocked = n;
    m->u.scopes.blocked = r->p;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = mm_mp_bin_n(r, &b, 32)))
            return rc;
    return MM_OK;
}

int mm_wire_scopes_told(const mm_msg_t *m, mm_mailbox_told_t *t)
{
    mm_mp_reader_t r;
    uint32_t k, nm;
    const uint8_t *b;
    memset(t, 0, sizeof *t);
    size_t n = m->u.scopes.n ? m->u.scopes.n : 1, nb = m->u.scopes.nblocked ? m->u.scopes.nblocked : 1;
    t->id = calloc(n, sizeof *t->id);
    t->nmembers = calloc(n, sizeof *t->nmembers);
    t->members = calloc(n, sizeof *t->members);
    t->blocked = calloc(nb, sizeof *t->blocked);
    if (!t->id || !t->nmembers || !t->members || !t->blocked) {
        mm_mailbox_told_free(t);
        return MM_ENOMEM;
    }
    /* validated by mm_wire_decode: every read below succeeds */
    mm_mp_reader_init(&r, m->u.scopes.pos, (size_t) (m->u.scopes.blocked - m->u.scopes.pos));
    for (uint32_t i = 0; i < m->u.scopes.n; i++) {
        if (mm_mp_array(&r, &k) || mm_mp_bin_n(&r, &b, 32) || mm_mp_array(&r, &nm))
            break;
        memcpy(t->id[i], b, 32);
        t->nmembers[i] = nm;
        for (uint32_t j = 0; j < nm && j < 2; j++)
            if (mm_mp_bin_n(&r, &b, 32) == MM_OK)
                memcpy(t->members[i][j], b, 32);
        t->n = i + 1;
    }
    mm_mp_reader_init(&r, m->u.scopes.blocked, (size_t) m->u.scopes.nblocked * 34);
    for (uint32_t i = 0; i < m->u.scopes.nblocked; i++) {
        if (mm_mp_bin_n(&r, &b, 32))
            break;
        memcpy(t->blocked[i], b, 32);
        t->nblocked = i + 1;
    }
    return MM_OK;
}

int mm_wire_decode(const uint8_t *buf, size_t len, mm_msg_t *m)
{
    mm_mp_reader_t r;
    uint32_t n, tlen;
    const char *t;
    int rc;
    if (len > MM_FRAME_MAX)
        return MM_ETOOBIG;
    m->type = 0;
    m->have_pos = m->have_end = NULL;
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)) || (rc = mm_mp_str(&r, &t, &tlen)))
        return rc;
    unsigned i;
    for (i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].name) == tlen && memcmp(types[i].name, t, tlen) == 0)
            break;
    if (i == sizeof types / sizeof types[0])
        return MM_EPROTO;
    if (n != types[i].fields)
        return MM_EMALFORMED;
    m->type = types[i].type;
    const uint8_t *b;
    uint32_t bl;
    switch (m->type) {
    case MM_MSG_HELLO:
        if ((rc = mm_mp_uint(&r, &m->u.hello.version))
            || (rc = bin_max(&r, &m->u.hello.cert, &m->u.hello.certlen, MM_CERT_MAX))
            || (rc = str_max(&r, &m->u.hello.name, &m->u.hello.namelen, MM_NAME_WIRE_MAX)))
            return rc;
        break;
    case MM_MSG_HAVE:
        if ((rc = decode_have(&r, m)))
            return rc;
        break;
    case MM_MSG_CERT:
        if ((rc = bin_max(&r, &m->u.cert.cert, &m->u.cert.certlen, MM_CERT_MAX)))
            return rc;
        break;
    case MM_MSG_ENTRIES:
        if ((rc = mm_mp_array(&r, &n)))
            return rc;
        if (n == 0 || n > MM_RUN_MAX)
            return n ? MM_ETOOBIG : MM_EMALFORMED;
        m->u.entries.n = n;
        for (uint32_t k = 0; k < n; k++) {
            if ((rc = bin_max(&r, &b, &bl, MM_ENTRY_MAX)))
                return rc;
            m->u.entries.bufs[k] = b;
            m->u.entries.lens[k] = bl;
        }
        break;
    case MM_MSG_ACK:
        if ((rc = mm_mp_uint(&r, &m->u.ack.frames)))
            return rc;
        if (m->u.ack.frames == 0 || m->u.ack.frames > MM_CREDIT_INITIAL)
            return MM_EMALFORMED;
        break;
    case MM_MSG_DONE:
        break;
    case MM_MSG_DEVICES:
        if ((rc = decode_devices(&r, m)))
            return rc;
        break;
    case MM_MSG_SCOPES:
        if ((rc = decode_scopes(&r, m)))
            return rc;
        break;
    case MM_MSG_LINK:
        if ((rc = mm_mp_bin_n(&r, &m->u.link.identity, 32))
            || (rc = str_max(&r, &m->u.link.name, &m->u.link.namelen, MM_NAME_WIRE_MAX)))
            return rc;
        break;
    case MM_MSG_CONSENT:
        if ((rc = mm_mp_bin_n(&r, &m->u.consent.devsig, 64)))
            return rc;
        break;
    case MM_MSG_CERTIFY:
        if ((rc = bin_max(&r, &m->u.certify.cert, &m->u.certify.certlen, MM_CERT_MAX))
            || (rc = str_max(&r, &m->u.certify.name, &m->u.certify.namelen, MM_NAME_WIRE_MAX)))
            return rc;
        break;
    case MM_MSG_ERROR:
        if ((rc = str_max(&r, &m->u.error.code, &m->u.error.codelen, 32))
            || (rc = str_max(&r, &m->u.error.text, &m->u.error.textlen, 1024)))
            return rc;
        break;
    case MM_MSG_ACCEPT:
        if ((rc = bin_max(&r, &m->u.accept.cert, &m->u.accept.certlen, MM_CERT_MAX))
            || (rc = str_max(&r, &m->u.accept.name, &m->u.accept.namelen, MM_NAME_WIRE_MAX))
            || (rc = mm_mp_bin_n(&r, &m->u.accept.sig, 64)))
            return rc;
        break;
    case MM_MSG_WELCOME:
        if ((rc = bin_max(&r, &m->u.welcome.cert, &m->u.welcome.certlen, MM_CERT_MAX))
            || (rc = str_max(&r, &m->u.welcome.name, &m->u.welcome.namelen, MM_NAME_WIRE_MAX))
            || (rc = mm_mp_bin_n(&r, &m->u.welcome.scope, 32))
            || (rc = mm_mp_bin_n(&r, &m->u.welcome.key, 32))
            || (rc = mm_mp_uint(&r, &m->u.welcome.role)))
            return rc;
        break;
    case MM_MSG_FORK:
        if ((rc = mm_mp_array(&r, &n)))
            return rc;
        if (n == 0 || n > MM_FORK_ENTRIES_MAX)
            return n ? MM_ETOOBIG : MM_EMALFORMED;
        m->u.fork.n = n;
        for (uint32_t k = 0; k < n; k++) {
            if ((rc = bin_max(&r, &b, &bl, MM_ENTRY_MAX)))
                return rc;
            m->u.fork.bufs[k] = b;
            m->u.fork.lens[k] = bl;
        }
        break;
    }
    return mm_mp_left(&r) ? MM_ETRAILING : MM_OK;
}

static void begin(mm_mp_writer_t *w, mm_msg_type_t t, uint32_t fields)
{
    mm_mp_put_array(w, fields);
    mm_mp_put_cstr(w, type_name(t));
}

void mm_wire_hello(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name)
{
    begin(w, MM_MSG_HELLO, 4);
    mm_mp_put_uint(w, MM_PROTO_VERSION);
    mm_mp_put_bin(w, cert, certlen);
    mm_mp_put_cstr(w, name);
}

void mm_wire_have_begin(mm_mp_writer_t *w, int last, uint32_t n)
{
    begin(w, MM_MSG_HAVE, 4);
    mm_mp_put_bool(w, last);
    mm_mp_put_array(w, n);
}

void mm_wire_have_feed(mm_mp_writer_t *w, const mm_have_t *h)
{
    mm_mp_put_array(w, 4);
    mm_mp_put_bin(w, h->author, 32);
    mm_mp_put_bin(w, h->scope, 32);
    mm_mp_put_uint(w, h->seq);
    mm_mp_put_bin(w, h->head, 32);
}

void mm_wire_have_end(mm_mp_writer_t *w, const uint8_t (*refuse)[32], uint32_t nrefuse)
{
    mm_mp_put_array(w, nrefuse);
    for (uint32_t i = 0; i < nrefuse; i++)
        mm_mp_put_bin(w, refuse[i], 32);
}

void mm_wire_cert(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen)
{
    begin(w, MM_MSG_CERT, 2);
    mm_mp_put_bin(w, cert, certlen);
}

void mm_wire_entries_begin(mm_mp_writer_t *w, uint32_t n)
{
    begin(w, MM_MSG_ENTRIES, 2);
    mm_mp_put_array(w, n);
}

void mm_wire_entries_add(mm_mp_writer_t *w, const uint8_t *buf, size_t len)
{
    mm_mp_put_bin(w, buf, len);
}

void mm_wire_ack(mm_mp_writer_t *w, uint64_t frames)
{
    begin(w, MM_MSG_ACK, 2);
    mm_mp_put_uint(w, frames);
}

void mm_wire_done(mm_mp_writer_t *w)
{
    begin(w, MM_MSG_DONE, 1);
}

void mm_wire_error(mm_mp_writer_t *w, int rc, const char *text)
{
    begin(w, MM_MSG_ERROR, 3);
    mm_mp_put_cstr(w, mm_errname(rc));
    size_t n = strlen(text);
    mm_mp_put_str(w, text, n > 1024 ? 1024 : n);
}

void mm_wire_accept(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name,
                    const uint8_t sig[64])
{
    begin(w, MM_MSG_ACCEPT, 4);
    mm_mp_put_bin(w, cert, certlen);
    mm_mp_put_cstr(w, name);
    mm_mp_put_bin(w, sig, 64);
}

void mm_wire_welcome(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name,
                     const uint8_t scope[32], const uint8_t key[32], unsigned role)
{
    begin(w, MM_MSG_WELCOME, 6);
    mm_mp_put_bin(w, cert, certlen);
    mm_mp_put_cstr(w, name);
    mm_mp_put_bin(w, scope, 32);
    mm_mp_put_bin(w, key, 32);
    mm_mp_put_uint(w, role);
}

int mm_wire_errcode(const char *name, size_t len)
{
    for (int rc = 0; rc >= -64; rc--) {
        const char *n = mm_errname(rc);
        if (strlen(n) == len && memcmp(n, name, len) == 0 && strcmp(n, "MM_EUNKNOWN") != 0)
            return rc;
    }
    return MM_EPROTO;
}

void mm_wire_fork(mm_mp_writer_t *w, const uint8_t *const *bufs, const size_t *lens, uint32_t n)
{
    begin(w, MM_MSG_FORK, 2);
    mm_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++)
        mm_mp_put_bin(w, bufs[i], lens[i]);
}

void mm_wire_scopes(mm_mp_writer_t *w, const mm_mailbox_told_t *t)
{
    begin(w, MM_MSG_SCOPES, 3);
    mm_mp_put_array(w, (uint32_t) t->n);
    for (size_t i = 0; i < t->n; i++) {
        mm_mp_put_array(w, 2);
        mm_mp_put_bin(w, t->id[i], 32);
        mm_mp_put_array(w, t->nmembers[i]);
        for (unsigned j = 0; j < t->nmembers[i]; j++)
            mm_mp_put_bin(w, t->members[i][j], 32);
    }
    mm_mp_put_array(w, (uint32_t) t->nblocked);
    for (size_t i = 0; i < t->nblocked; i++)
        mm_mp_put_bin(w, t->blocked[i], 32);
}

void mm_wire_link(mm_mp_writer_t *w, const uint8_t identity[32], const char *name)
{
    begin(w, MM_MSG_LINK, 3);
    mm_mp_put_bin(w, identity, 32);
    mm_mp_put_cstr(w, name);
}

void mm_wire_consent(mm_mp_writer_t *w, const uint8_t devsig[64])
{
    begin(w, MM_MSG_CONSENT, 2);
    mm_mp_put_bin(w, devsig, 64);
}

void mm_wire_certify(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name)
{
    begin(w, MM_MSG_CERTIFY, 3);
    mm_mp_put_bin(w, cert, certlen);
    mm_mp_put_cstr(w, name);
}

void mm_wire_devices_begin(mm_mp_writer_t *w)
{
    begin(w, MM_MSG_DEVICES, 4);
}

void mm_wire_devices_list(mm_mp_writer_t *w, uint32_t n)
{
    mm_mp_put_array(w, n);
}

void mm_wire_devices_add(mm_mp_writer_t *w, const uint8_t *buf, size_t len)
{
    mm_mp_put_bin(w, buf, len);
}
