/*  util.c -- what every command shares: messages, option parsing, opening
 *  the home, the TEXT and id arguments, and formatting times and text for
 *  the terminal.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/util.h"
#include "cli/json.h"
#include "cli/suggest.h"
#include "core/fork.h"
#include "core/question.h"
#include "core/utf8.h"
#include "crypto/error.h"

/* --- messages ------------------------------------------------------------ */

void cli_group(const char *name, char *out, size_t cap)
{
    size_t n = strcspn(name, " ");

    if (cap == 0)
        return;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, name, n);
    out[n] = '\0';
}

static void cli_verror(const cli_t *cli, const char *see, const char *fmt,
                       va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The last error said, for the --json error object (cli_error_json). */
static struct {
    char        msg[4096];
    int         rc;                 /* its MM_E code, or 0 */
    cli_extra_fn extra;
    const void *arg;
} last;

void cli_set_code(int rc)
{
    last.rc = rc;
}

void cli_set_extra(cli_extra_fn fn, const void *arg)
{
    last.extra = fn;
    last.arg = arg;
}

static void cli_verror(const cli_t *cli, const char *see, const char *fmt,
                       va_list ap)
{
    size_t n;

    fflush(stdout);
    vsnprintf(last.msg, sizeof last.msg, fmt, ap);
    n = strlen(last.msg);
    if (see)
        snprintf(last.msg + n, sizeof last.msg - n, "; see 'mm help%s%s'",
                 *see ? " " : "", see);
    if (cli && cli->name)
        fprintf(stderr, "mm %s: %s\n", cli->name, last.msg);
    else
        fprintf(stderr, "mm: %s\n", last.msg);
}

void cli_error_json(const cli_t *cli, int ex)
{
    json_t j;

    (void) cli;
    if (ex == CLI_EXIT_OK || json_stdout_used())
        return;
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_obj_begin(&j, "error");
    if (ex == CLI_EXIT_USAGE)
        json_str(&j, "code", "usage");
    else
        json_str(&j, "code", last.rc ? mm_errname(last.rc) : NULL);
    json_str(&j, "message", last.msg[0] ? last.msg : "the command failed");
    if (last.extra)
        last.extra(&j, last.arg);
    json_obj_end(&j);
    json_obj_end(&j);
    (void) json_finish(&j);
}

void cli_error(const cli_t *cli, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_verror(cli, NULL, fmt, ap);
    va_end(ap);
}

int cli_fail(const cli_t *cli, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_verror(cli, NULL, fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int cli_usage(const cli_t *cli, const char *fmt, ...)
{
    char group[32] = "";
    va_list ap;

    if (cli && cli->name)
        cli_group(cli->name, group, sizeof group);
    va_start(ap, fmt);
    cli_verror(cli, group, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

const char *cli_hint(int rc)
{
    switch (rc) {
    case MM_ENOMEM:   return "free some memory and try again";
    case MM_EIO:      return "check the disk and try again";
    case MM_EFULL:    return "free some disk space and try again";
    case MM_EBUSY:    return "another mm is using the store; try again in a moment";
    case MM_EPERM:    return "check the owner and permissions of the home directory";
    case MM_EVERSION: return "this home was written by a newer mm; upgrade mm";
    case MM_EKEYFILE: return "restore the key file from a backup";
    case MM_ETOOBIG:  return "make it smaller";
    case MM_EINVAL:   return "check the arguments";
    case MM_ENOTFOUND: return "check the path and try again";
    case MM_EFORKED:  return "this home writes nothing more; see 'mm status' for how to recover";
    case MM_ETOOMANY: return "a person has at most 64 devices certified here, revoked ones "
                             "included";
    default:          return "run 'mm verify' to check the store";
    }
}

int cli_usage_said(const cli_t *cli, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_verror(cli, NULL, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_fail_code(const cli_t *cli, int rc, const char *fmt, ...)
{
    va_list ap;

    last.rc = rc;
    va_start(ap, fmt);
    cli_verror(cli, NULL, fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int cli_fail_rc(const cli_t *cli, int rc, const char *what)
{
    return cli_fail_code(cli, rc, "%s: %s; %s", what, mm_strerror(rc), cli_hint(rc));
}

/* --- options --------------------------------------------------------------- */

enum { OPT_HOME = 256, OPT_JSON, OPT_VERSION };
#define OPTS_MAX 16

/* The long name of the option whose value is val, for messages. */
static const char *opt_name(const struct option *opts, int val)
{
    for (; opts->name; opts++)
        if (opts->val == val)
            return opts->name;
    return NULL;
}

/* Explain why getopt_long returned '?' or ':' (opterr is 0: we speak). */
static int opt_error(cli_t *cli, int c, const struct option *opts,
                     int argc, char **argv)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    const char *name = opt_name(opts, optopt);

    if (c == ':') {
        if (name)
            return cli_usage(cli, "option '--%s' needs a value", name);
        return cli_usage(cli, "option '-%c' needs a value", optopt);
    }
    if (optopt == 0) {          /* an unknown long option */
        char typed[64], near[CLI_SUGGEST_MAX * 72 + 32];
        cli_suggest_t sg;
        const char *w = strncmp(arg, "--", 2) == 0 ? arg + 2 : arg;
        snprintf(typed, sizeof typed, "%.*s", (int) strcspn(w, "="), w);
        cli_suggest_init(&sg, typed);
        for (const struct option *o = opts; o->name; o++)
            cli_suggest_add(&sg, o->name);
        cli_suggest_text(&sg, "--", near, sizeof near);
        if (*near)
            return cli_usage_said(cli, "unknown option '%.*s'; %s",
                                  (int) strcspn(arg, "="), arg, near);
        return cli_usage(cli, "unknown option '%.*s'",
                         (int) strcspn(arg, "="), arg);
    }
    if (name && strncmp(arg, "--", 2) == 0)
        return cli_usage(cli, "option '--%s' takes no value", name);
    if (optopt > 32 && optopt < 127)
        return cli_usage(cli, "unknown option '-%c'", optopt);
    return cli_usage(cli, "unknown option '%s'", arg);
}

int cli_parse(cli_t *cli, int argc, char **argv, int stop, int *first)
{
    struct option all[OPTS_MAX + 1];
    size_t n = 0;
    int c;

    all[n++] = (struct option) { "home", required_argument, NULL, OPT_HOME };
    all[n++] = (struct option) { "json", no_argument, NULL, OPT_JSON };
    all[n++] = (struct option) { "help", no_argument, NULL, 'h' };
    if (!cli->name)             /* before the command word only */
        all[n++] = (struct option) { "version", no_argument, NULL, OPT_VERSION };
    if (cli->cmd && cli->cmd->opts)
        for (const struct option *o = cli->cmd->opts; o->name && n < OPTS_MAX; o++)
            all[n++] = *o;
    all[n] = (struct option) { 0 };

    optind = 0;                 /* glibc: start afresh, argv[0] is skipped */
    opterr = 0;
    /* '+' stops at the first non-option (a subcommand) instead of
     * collecting the positional arguments from all over the line. */
    while ((c = getopt_long(argc, argv, stop ? "+:h" : ":h", all, NULL)) != -1) {
        switch (c) {
        case OPT_HOME:
            cli->home_flag = optarg;
            break;
        case OPT_JSON:
            cli->json = 1;
            break;
        case 'h':
            cli->help = 1;
            break;
        case OPT_VERSION:
            cli->version = 1;
            break;
        case '?':
        case ':':
            return opt_error(cli, c, all, argc, argv);
        default:
            if (c > 0 && c < CLI_OPT_MAX) {
                cli->opt[c] = optarg ? optarg : "";
                if (cli->optn[c] < CLI_OPT_REPEAT_MAX)
                    cli->optv[c][cli->optn[c]] = cli->opt[c];
                cli->optn[c]++;
            }
            break;
        }
    }
    *first = optind;
    return CLI_EXIT_OK;
}

/* --- the home ------------------------------------------------------------ */

int cli_home_path(cli_t *cli)
{
    if (mm_home_resolve(cli->home_flag, cli->path, sizeof cli->path) == MM_OK)
        return CLI_EXIT_OK;
    if (cli->home_flag)
        return cli_usage(cli, "--home '%s' is not a usable directory name",
                         cli->home_flag);
    return cli_fail(cli, "cannot tell where the micromentor home is: $HOME is "
                    "not set; give --home DIR or set MM_HOME");
}

/* dir + "/" + name, without doubling a trailing slash. */
static void path_join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s/%s", (int) n, dir, name);
}

/* MM_EPERM from opening a home: find what is too open and say how to fix it
 * (core/home.h: key files, the home, the store directory and files). */
static int home_perm_error(cli_t *cli)
{
    static const char *const keys[] = { "device.key", "identity.key" };
    static const char *const store_files[] = { "store/data.mdb", "store/lock.mdb" };
    char file[MM_PATH_MAX + 32];
    struct stat st;

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        path_join(file, sizeof file, cli->path, keys[i]);
        if (lstat(file, &st) == 0 && S_ISLNK(st.st_mode))
            return cli_fail(cli, "key file %s is a symbolic link, which mm never follows; "
                            "put the key file itself there (mode 0600)", file);
        if (stat(file, &st) == 0 && (st.st_mode & 077))
            return cli_fail(cli, "key file %s has permissions %04o, too open; "
                            "run 'chmod 600 %s'", file,
                            (unsigned) (st.st_mode & 07777), file);
        if (access(file, R_OK) != 0 && errno == EACCES)
            return cli_fail(cli, "cannot read key file %s: permission denied; "
                            "check that you own it", file);
    }
    if (stat(cli->path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 077))
        return cli_fail(cli, "home %s has permissions %04o, too open; run "
                        "'chmod 700 %s'", cli->path,
                        (unsigned) (st.st_mode & 07777), cli->path);
    path_join(file, sizeof file, cli->path, "store");
    if (stat(file, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 077))
        return cli_fail(cli, "store directory %s has permissions %04o, too open; run "
                        "'chmod 700 %s'", file, (unsigned) (st.st_mode & 07777), file);
    for (size_t i = 0; i < sizeof store_files / sizeof store_files[0]; i++) {
        path_join(file, sizeof file, cli->path, store_files[i]);
        if (stat(file, &st) == 0 && (st.st_mode & 077))
            return cli_fail(cli, "store file %s has permissions %04o, too open; run "
                            "'chmod 600 %s'", file, (unsigned) (st.st_mode & 07777), file);
    }
    return cli_fail(cli, "cannot open the micromentor home at %s: permission "
                    "denied; check that you own it and its files", cli->path);
}

/* MM_ENOTFOUND from opening a home: nothing there, or a part of it gone? */
static int home_missing_error(cli_t *cli, const char *key)
{
    char other[MM_PATH_MAX + 32], store[MM_PATH_MAX + 32];
    struct stat st;
    int has_key = lstat(key, &st) == 0;

    path_join(other, sizeof other, cli->path, "identity.key");
    path_join(store, sizeof store, cli->path, "store");
    if (!has_key && (lstat(other, &st) == 0 || lstat(store, &st) == 0))
        return cli_fail(cli, "cannot load device key %s: the file is missing; "
                        "restore it from a backup", key);
    if (has_key && lstat(store, &st) != 0)
        return cli_fail(cli, "the store %s is missing; restore it from a "
                        "backup", store);
    return cli_fail(cli, "no micromentor home at %s; run 'mm init --name "
                    "NAME' first", cli->path);
}

int cli_forked(const cli_t *cli, uint64_t *seq)
{
    mm_txn_t *txn = NULL;
    int forked = 0;

    *seq = 0;
    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) != MM_OK
        || mm_fork_self(txn, mm_keypair_pk(mm_home_device(cli->home)), &forked, NULL, seq)
           != MM_OK)
        forked = 0;
    mm_txn_abort(&txn);
    return forked;
}

void cli_forked_text(char *out, size_t cap, uint64_t seq)
{
    snprintf(out, cap, "this device's key was also used on another home (a copied home); "
             "writing is stopped. Recover: on the home you keep, run 'mm device reset' on the "
             "identity device, or pair it again; entries up to seq %llu stay valid.",
             (unsigned long long) (seq ? seq - 1 : 0));
}

int cli_home_open(cli_t *cli)
{
    char key[MM_PATH_MAX + 32];
    int ex, rc;

    if ((ex = cli_home_path(cli)) != CLI_EXIT_OK)
        return ex;
    rc = mm_home_open(cli->path, &cli->home);
    if (rc == MM_OK) {
        unsigned from = mm_store_migrated(mm_home_store(cli->home));
        if (from)   /* said once, on stderr, so --json output stays clean */
            fprintf(stderr, "mm: upgraded the store of %s from format %u to %u; the old one "
                    "is kept as %s/store/format-%u.mdb\n", cli->path, from,
                    (unsigned) MM_STORE_FORMAT, cli->path, from);
        uint64_t seq;
        if (cli_forked(cli, &seq)) {        /* before anything else, every command */
            char line[512];
            cli_forked_text(line, sizeof line, seq);
            fprintf(stderr, "mm: %s\n", line);
        }
        return CLI_EXIT_OK;
    }
    path_join(key, sizeof key, cli->path, "device.key");
    cli_set_code(rc);
    switch (rc) {
    case MM_ENOTFOUND:
        return home_missing_error(cli, key);
    case MM_EKEYFILE:
        return cli_fail(cli, "cannot load device key %s: %s; restore it from "
                        "a backup", key, mm_strerror(rc));
    case MM_EPERM:
        return home_perm_error(cli);
    case MM_EBUSY:
        return cli_fail(cli, "the store of %s is in use; try again in a "
                        "moment", cli->path);
    case MM_ECORRUPT:
        return cli_fail(cli, "the store of %s is damaged or not an mm store; "
                        "restore it from a backup", cli->path);
    case MM_EVERSION:
        return cli_fail(cli, "the home at %s was written by a newer mm; "
                        "upgrade mm", cli->path);
    default:
        return cli_fail(cli, "cannot open the micromentor home at %s: %s; %s",
                        cli->path, mm_strerror(rc), cli_hint(rc));
    }
}

/* --- time ---------------------------------------------------------------- */

uint64_t cli_duration_ms(const char *s, uint64_t max_ms)
{
    unsigned long long n = 0;
    uint64_t unit;
    size_t i = 0;

    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        n = n * 10 + (unsigned) (s[i] - '0');
        if (n > max_ms)
            return 0;
    }
    if (i == 0 || s[i + 1] != '\0')
        return 0;
    switch (s[i]) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000ull; break;
    case 'h': unit = 3600 * 1000ull; break;
    case 'd': unit = 86400 * 1000ull; break;
    default:  return 0;
    }
    if (n == 0 || n > max_ms / unit)
        return 0;
    return n * unit;
}

void cli_time_iso(char out[CLI_TIME_MAX], uint64_t ms)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    size_t n;

    if (!gmtime_r(&t, &tm) ||
        (n = strftime(out, CLI_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
        snprintf(out, CLI_TIME_MAX, "?");
        return;
    }
    snprintf(out + n, CLI_TIME_MAX - n, ".%03uZ", (unsigned) (ms % 1000));
}

/* Local time of ms: the date, or date, time and UTC offset. */
static void cli_time_fmt(char out[CLI_TIME_MAX], uint64_t ms, int date_only)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    size_t n = 0;

    if (localtime_r(&t, &tm))
        n = date_only ? strftime(out, CLI_TIME_MAX, "%Y-%m-%d", &tm)
                      : strftime(out, CLI_TIME_MAX, "%Y-%m-%d %H:%M:%S %z", &tm);
    if (n == 0)
        snprintf(out, CLI_TIME_MAX, "?");
}

void cli_time_local(char out[CLI_TIME_MAX], uint64_t ms)
{
    cli_time_fmt(out, ms, 0);
}

void cli_time_date(char out[CLI_TIME_MAX], uint64_t ms)
{
    cli_time_fmt(out, ms, 1);
}

void cli_time_rel(char out[CLI_TIME_MAX], uint64_t ms, uint64_t now)
{
    static const struct { uint64_t secs; const char *unit; } units[] = {
        { 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
    };
    uint64_t d;

    /* A time ahead of our clock comes from a device whose clock is ahead. */
    if (ms > now) {
        if (ms - now < 60000)
            snprintf(out, CLI_TIME_MAX, "just now");
        else
            cli_time_fmt(out, ms, 1);
        return;
    }
    d = (now - ms) / 1000;
    if (d > 30 * 86400ull) {
        cli_time_fmt(out, ms, 1);
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t k = d / units[i].secs;
        if (k > 0) {
            snprintf(out, CLI_TIME_MAX, "%u %s%s ago", (unsigned) k,
                     units[i].unit, k == 1 ? "" : "s");
            return;
        }
    }
    snprintf(out, CLI_TIME_MAX, "just now");
}

/* --- text ---------------------------------------------------------------- */

size_t cli_utf8_len(const unsigned char *s, size_t n)
{
    return mm_utf8_decode(s, n, NULL);
}

/* cli_utf8_len, but 0 for C1 controls too (U+0080..U+009F, C2 80..C2 9F):
 * they can drive a terminal like ESC does. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = cli_utf8_len(s, n);

    if (len == 2 && s[0] == 0xc2 && s[1] < 0xa0)
        return 0;
    return len;
}

char *cli_line(const char *str, size_t n, size_t maxchars)
{
    static const char ellipsis[] = "\xe2\x80\xa6";       /* … */
    static const char fffd[] = "\xef\xbf\xbd";           /* � */
    const unsigned char *s = (const unsigned char *) str;
    /* An input byte yields at most 3 output bytes (U+FFFD for a bad one),
     * a character at most 4. */
    size_t cap = (n < maxchars ? n * 3 : maxchars * 4) + sizeof ellipsis;
    size_t i = 0, o = 0, chars = 0, len;
    char *out = calloc(1, cap);     /* calloc: the analyzer sees every byte set */

    if (!out)
        return NULL;
    while (i < n && s[i] != '\n') {
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            break;
        if (chars == maxchars) {
            memcpy(out + o, ellipsis, sizeof ellipsis - 1);
            o += sizeof ellipsis - 1;
            break;
        }
        if (s[i] == '\t') {
            out[o++] = ' ';
            len = 1;
        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            out[o++] = '?';
            len = 1;
        } else if ((len = utf8_len(s + i, n - i)) == 0) {
            memcpy(out + o, fffd, sizeof fffd - 1);
            o += sizeof fffd - 1;
            len = 1;
        } else {
            memcpy(out + o, s + i, len);
            o += len;
        }
        i += len;
        chars++;
    }
    out[o] = '\0';
    return out;
}

void cli_print_lines(const char *indent, const char *s, size_t n)
{
    size_t i = 0;
    const char *nl;
    char *line;

    while (i < n) {
        line = cli_line(s + i, n - i, MM_TEXT_MAX);
        printf("%s%s\n", indent, line ? line : "?");
        free(line);
        nl = memchr(s + i, '\n', n - i);
        if (!nl)
            break;
        i = (size_t) (nl - s) + 1;
    }
}

char *cli_first_line(const char *s, size_t n, size_t maxchars)
{
    size_t i = 0;

    while (i < n && isspace((unsigned char) s[i]))
        i++;
    return cli_line(s + i, n - i, maxchars);
}

size_t cli_width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        if (((unsigned char) *s & 0xc0) != 0x80)
            w++;
    return w;
}

size_t cli_term_cols(void)
{
    static size_t cols = (size_t) -1;
    const char *v = getenv("COLUMNS");
    struct winsize ws;

    if (cols != (size_t) -1)
        return cols;
    cols = 0;
    if (v && *v) {
        char *end;
        unsigned long c = strtoul(v, &end, 10);
        if (!*end && c >= 20 && c <= 1000)
            return cols = c;
    }
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_col >= 20)
        cols = ws.ws_col;
    return cols;
}

/* Columns of one code point (see cli_cols). */
static size_t cp_cols(uint32_t cp)
{
    static const uint32_t zero[][2] = {
        { 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD }, { 0x0610, 0x061A },
        { 0x064B, 0x065F }, { 0x0E31, 0x0E31 }, { 0x0E34, 0x0E3A }, { 0x200B, 0x200F },
        { 0x20D0, 0x20FF }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F }, { 0xE0100, 0xE01EF },
    };
    static const uint32_t wide[][2] = {
        { 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC },
        { 0x25FD, 0x25FE }, { 0x2614, 0x2615 }, { 0x26AA, 0x26AB }, { 0x26BD, 0x26BE },
        { 0x2705, 0x2705 }, { 0x2728, 0x2728 }, { 0x274C, 0x274C }, { 0x2753, 0x2755 },
        { 0x2795, 0x2797 }, { 0x2B50, 0x2B50 }, { 0x2E80, 0x303E }, { 0x3041, 0x33FF },
        { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF }, { 0xAC00, 0xD7A3 },
        { 0xF900, 0xFAFF }, { 0xFE30, 0xFE4F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 },
        { 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF }, { 0x1F900, 0x1F9FF },
        { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
    };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (cp >= zero[i][0] && cp <= zero[i][1])
            return 0;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    return 1;
}

/* The code point of the well-formed sequence s[0..len). */
static uint32_t cp_of(const unsigned char *s, size_t len)
{
    static const unsigned char lead[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
    uint32_t cp = s[0] & lead[len];

    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    return cp;
}

size_t cli_cols(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0, cols = 0, len;

    while (i < n) {
        len = cli_utf8_len(s + i, n - i);
        if (len == 0) {
            cols++;
            i++;
            continue;
        }
        cols += cp_cols(cp_of(s + i, len));
        i += len;
    }
    return cols;
}

/* The length of the character at s[0..n) in a line made by cli_line. */
static size_t char_len(const char *s, size_t n)
{
    size_t len = cli_utf8_len((const unsigned char *) s, n);
    return len ? len : 1;
}

/* How many bytes of the safe line s[0..n) fit in cols columns, ending at
 * a word boundary when there is one (else mid-word): *next is where the
 * rest starts (blanks skipped). */
static size_t fit_len(const char *s, size_t n, size_t cols, size_t *next)
{
    size_t i = 0, used = 0, brk = 0, len, w;

    while (i < n) {
        len = char_len(s + i, n - i);
        w = cli_cols(s + i, len);
        if (used + w > cols)
            break;
        if (s[i] == ' ')
            brk = i;
        used += w;
        i += len;
    }
    if (i < n && brk > 0 && s[i] != ' ')
        i = brk;                    /* back to the last blank: a whole word */
    if (i == 0 && n > 0)
        i = char_len(s, n);         /* always move on */
    *next = i;
    while (*next < n && s[*next] == ' ')
        (*next)++;
    while (i > 0 && s[i - 1] == ' ')
        i--;
    return i;
}

char *cli_fit(const char *s, size_t n, size_t maxcols)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    char *line = cli_first_line(s, n, MM_TEXT_MAX), *out;
    size_t len, next, cut;

    if (!line)
        return NULL;
    len = strlen(line);
    if (cli_cols(line, len) <= maxcols || maxcols < 2)
        return line;
    cut = fit_len(line, len, maxcols - 1, &next);
    if (!(out = malloc(cut + sizeof ellipsis))) {
        free(line);
        return NULL;
    }
    memcpy(out, line, cut);
    memcpy(out + cut, ellipsis, sizeof ellipsis);
    free(line);
    return out;
}

void cli_print_wrapped(const char *indent, const char *hang, const char *s, size_t n)
{
    size_t cols = cli_term_cols(), i = 0, k, next;
    const char *nl;
    char *line;

    if (cols == 0) {
        cli_print_lines(indent, s, n);
        return;
    }
    while (i < n) {
        line = cli_line(s + i, n - i, MM_TEXT_MAX);
        const char *pre = indent;
        size_t len = line ? strlen(line) : 0, at = 0;
        if (!line || len == 0)
            printf("%s%s\n", indent, line ? "" : "?");
        while (line && at < len) {
            size_t room = cols > cli_width(pre) + 10 ? cols - cli_width(pre) : 10;
            k = fit_len(line + at, len - at, room, &next);
            printf("%s%.*s\n", pre, (int) k, line + at);
            at += next;
            pre = hang;
        }
        free(line);
        nl = memchr(s + i, '\n', n - i);
        if (!nl)
            break;
        i = (size_t) (nl - s) + 1;
    }
}

const char *cli_c(const cli_t *cli, const char *esc)
{
    return cli->color ? esc : "";
}

/* --- arguments ------------------------------------------------------------- */

int cli_join_words(int argc, char **argv, size_t max, char **out,
                   size_t *outlen)
{
    size_t len = 0, o = 0;
    char *text;

    for (int i = 0; i < argc; i++) {
        len += strlen(argv[i]) + (i > 0);
        if (len > max)
            return 1;
    }
    if (!(text = malloc(len + 1)))
        return -1;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (i > 0)
            text[o++] = ' ';
        memcpy(text + o, argv[i], n);
        o += n;
    }
    text[o] = '\0';
    *out = text;
    *outlen = len;
    return 0;
}

int cli_read_stdin(char **bufp, size_t *lenp, size_t max)
{
    char *buf = malloc(max + 2);
    size_t len = 0;
    ssize_t r;

    *bufp = NULL;
    *lenp = 0;
    if (!buf)
        return -1;
    /* Read one byte past max to tell "exactly max" from "more". */
    while (len < max + 1) {
        r = read(STDIN_FILENO, buf + len, max + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t) r;
    }
    if (len > max) {
        free(buf);
        return 1;
    }
    buf[len] = '\0';
    *bufp = buf;
    *lenp = len;
    return 0;
}

int cli_id_prefix(cli_t *cli, const char *arg, const char *what,
                  char out[2 * 32 + 1])
{
    size_t len = strlen(arg);

    if (len < CLI_ID_MIN || len > 64 ||
        strspn(arg, "0123456789abcdefABCDEF") != len)
        return cli_usage(cli, "'%s' is not %s id: give %d to 64 of its hex "
                         "digits", arg, what, CLI_ID_MIN);
    for (size_t i = 0; i <= len; i++)
        out[i] = (char) tolower((unsigned char) arg[i]);
    return CLI_EXIT_OK;
}

int cli_text_check(cli_t *cli, const char *what, const char *s, size_t len)
{
    size_t i = 0;

    cli_set_code(len > MM_TEXT_MAX ? MM_ETOOBIG : MM_EINVAL);
    if (len > MM_TEXT_MAX)
        return cli_fail(cli, "the %s is %zu bytes, longer than %d; shorten it",
                        what, len, MM_TEXT_MAX);
    while (i < len && isspace((unsigned char) s[i]))
        i++;
    if (i == len)
        return cli_fail(cli, "the %s is empty; give some text", what);
    if (memchr(s, '\0', len))
        return cli_fail(cli, "the %s contains a NUL byte; give UTF-8 text "
                        "without NUL bytes", what);
    if (!mm_utf8_valid(s, len))
        return cli_fail(cli, "the %s is not valid UTF-8; convert it first, "
                        "e.g. with iconv -t UTF-8", what);
    cli_set_code(0);
    return CLI_EXIT_OK;
}

void cli_text_free(char *text, size_t len)
{
    if (!text)
        return;
    sodium_memzero(text, len);
    free(text);
}

void cli_stdin_prompt(const cli_t *cli, const char *what)
{
    if (!isatty(STDIN_FILENO))
        return;
    fflush(stdout);
    fprintf(stderr, "mm %s: type the %s, then Ctrl-D on a line of its own:\n",
            cli && cli->name ? cli->name : "", what);
}

int cli_text_read(cli_t *cli, int argc, char **argv, const char *what,
                  char **out, size_t *outlen)
{
    size_t len = 0;
    char *text;
    int r, ex;

    *out = NULL;
    *outlen = 0;
    if (argc == 1 && strcmp(argv[0], "-") == 0) {
        cli_stdin_prompt(cli, what);
        /* One byte more than the limit: the newline dropped below. */
        r = cli_read_stdin(&text, &len, MM_TEXT_MAX + 1);
        if (r < 0)
            return cli_fail(cli, "cannot read the %s from stdin: %s; check "
                            "what is piped in", what, strerror(errno));
        if (r > 0)
            return cli_fail(cli, "the %s on stdin is longer than %d bytes; "
                            "shorten it", what, MM_TEXT_MAX);
        if (len > 0 && text[len - 1] == '\n')
            text[--len] = '\0';
    } else {
        r = cli_join_words(argc, argv, MM_TEXT_MAX, &text, &len);
        if (r > 0)
            return cli_fail(cli, "the %s is longer than %d bytes; shorten "
                            "it", what, MM_TEXT_MAX);
        if (r < 0)
            return cli_fail_rc(cli, MM_ENOMEM, "cannot read the text");
    }
    if ((ex = cli_text_check(cli, what, text, len)) != CLI_EXIT_OK) {
        cli_text_free(text, len);
        return ex;
    }
    *out = text;
    *outlen = len;
    return CLI_EXIT_OK;
}
