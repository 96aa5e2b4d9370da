/*  config.c -- $MM_HOME/config: reading, checking and rewriting it, and
 *  lending its values to the commands as defaults; see config.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/util.h"
#include "core/endpoint.h"
#include "crypto/error.h"

const cli_config_key_t cli_config_keys[] = {
    { "listen", "the endpoints mm serve listens on, separated by spaces "
      "(--listen)", "tcp://HOST:PORT ..." },
    { "sync-timeout", "seconds to wait for a peer (--timeout of sync, accept, "
      "init --join)", "1..3600" },
    { "color", "colour on a terminal (NO_COLOR and TERM=dumb turn auto off)",
      "auto, always or never" },
    { "editor", "the command that edits a TEXT you leave out on a terminal "
      "(before $EDITOR, $VISUAL and vi)", "a shell command" },
};
const size_t cli_config_nkeys = sizeof cli_config_keys / sizeof cli_config_keys[0];

#define NKEYS (sizeof cli_config_keys / sizeof cli_config_keys[0])

static struct {
    int  loaded, result;
    int  set[NKEYS];
    char val[NKEYS][CLI_CONFIG_LINE_MAX];
    char listen[CLI_CONFIG_LINE_MAX];   /* split copy of listen for optv */
} cfg;

int cli_config_find(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(cli_config_keys[i].name, key) == 0)
            return (int) i;
    return -1;
}

const char *cli_config_get(const char *key)
{
    int i = cli_config_find(key);

    return i >= 0 && cfg.set[i] ? cfg.val[i] : NULL;
}

/* The listen value: 1..CLI_OPT_REPEAT_MAX endpoints mm serve can bind. */
static const char *check_listen(const char *v)
{
    char buf[CLI_CONFIG_LINE_MAX];
    size_t n = 0;

    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        if (strncmp(w, "tcp://", 6) != 0 || strlen(w) > MM_ENDPOINT_MAX)
            return "listen takes endpoints like tcp://0.0.0.0:7461, separated by spaces";
        n++;
    }
    if (n == 0)
        return "listen needs at least one endpoint";
    if (n > CLI_OPT_REPEAT_MAX)
        return "listen takes at most 8 endpoints";
    return NULL;
}

const char *cli_config_check(const char *key, const char *v)
{
    int i = cli_config_find(key);

    if (i < 0)
        return "no such key";
    if (!*v)
        return "the value is empty; use 'mm config unset' to remove a key";
    if (strlen(v) >= CLI_CONFIG_LINE_MAX - 64)
        return "the value is too long";
    for (const char *p = v; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return "the value contains a control character";
    if (!strcmp(key, "listen"))
        return check_listen(v);
    if (!strcmp(key, "sync-timeout")) {
        char *end;
        errno = 0;
        unsigned long s = strtoul(v, &end, 10);
        if (!isdigit((unsigned char) v[0]) || *end || errno || s < 1 || s > 3600)
            return "sync-timeout is a number of seconds from 1 to 3600";
    }
    if (!strcmp(key, "color") && strcmp(v, "auto") && strcmp(v, "always") &&
        strcmp(v, "never"))
        return "color is auto, always or never";
    return NULL;
}

/* s without leading and trailing blanks (in place). */
static char *trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                 s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static void path_of(char *out, size_t cap, const char *home)
{
    snprintf(out, cap, "%s/%s", home, CLI_CONFIG_FILE);
}

/* One line: key and value out of "key = value", or 0 for a comment or a
 * blank line, -1 for a line that is neither. */
static int split(char *line, char **key, char **val)
{
    char *s = trim(line), *eq;

    if (!*s || *s == '#')
        return 0;
    if (!(eq = strchr(s, '=')))
        return -1;
    *eq = '\0';
    *key = trim(s);
    *val = trim(eq + 1);
    return 1;
}

int cli_config_load(cli_t *cli, const char *home, int strict)
{
    char path[MM_PATH_MAX + 16], line[CLI_CONFIG_LINE_MAX + 2], *key, *val;
    unsigned lineno = 0;
    const char *bad;
    FILE *f;
    int k;

    if (cfg.loaded)
        return cfg.result;
    cfg.loaded = 1;
    path_of(path, sizeof path, home);
    if (!(f = fopen(path, "r"))) {
        if (errno == ENOENT || errno == ENOTDIR)
            return cfg.result = CLI_EXIT_OK;
        return cfg.result = cli_fail_code(cli, MM_EIO, "cannot read %s: %s; check its "
                                     "permissions", path, strerror(errno));
    }
    cfg.result = CLI_EXIT_OK;
    cli_set_code(MM_EINVAL);        /* for the lines refused below */
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            if (strict) {
                cfg.result = cli_fail(cli, "%s line %u is longer than %d bytes; "
                                      "shorten it", path, lineno, CLI_CONFIG_LINE_MAX);
                break;
            }
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        int r = split(line, &key, &val);
        if (r == 0)
            continue;
        if (r < 0) {
            if (strict) {
                cfg.result = cli_fail(cli, "%s line %u is not 'key = value'; fix it "
                                      "(see 'mm help config')", path, lineno);
                break;
            }
            continue;
        }
        if ((k = cli_config_find(key)) < 0 || (bad = cli_config_check(key, val))) {
            if (strict) {
                cfg.result = k < 0
                    ? cli_fail(cli, "%s line %u: unknown key '%.64s'; fix it (see "
                               "'mm help config')", path, lineno, key)
                    : cli_fail(cli, "%s line %u: %s; fix it with 'mm config set %s "
                               "VALUE'", path, lineno, bad, key);
                break;
            }
            continue;
        }
        cfg.set[k] = 1;                 /* the last line of a key wins */
        snprintf(cfg.val[k], sizeof cfg.val[k], "%s", val);
    }
    fclose(f);
    if (cfg.result == CLI_EXIT_OK)
        cli_set_code(0);
    return cfg.result;
}

/* 1 if the command takes the option whose value is val. */
static int takes(const cli_t *cli, int val)
{
    if (!cli->cmd || !cli->cmd->opts)
        return 0;
    for (const struct option *o = cli->cmd->opts; o->name; o++)
        if (o->val == val)
            return 1;
    return 0;
}

void cli_config_apply(cli_t *cli)
{
    const char *v;

    if ((v = cli_config_get("sync-timeout")) && takes(cli, CLI_OPT_TIMEOUT) &&
        !cli->opt[CLI_OPT_TIMEOUT]) {
        cli->opt[CLI_OPT_TIMEOUT] = v;
        cli->optv[CLI_OPT_TIMEOUT][0] = v;
        cli->optn[CLI_OPT_TIMEOUT] = 1;
    }
    /* serve's --listen only: pairing listens on a one-time address */
    if ((v = cli_config_get("listen")) && !strcmp(cli->cmd->name, "serve") &&
        cli->optn[CLI_OPT_LISTEN] == 0) {
        char *save = NULL;
        unsigned n = 0;
        size_t len = strnlen(v, sizeof cfg.listen - 1);
        memcpy(cfg.listen, v, len);
        cfg.listen[len] = '\0';
        for (char *w = strtok_r(cfg.listen, " \t", &save);
             w && n < CLI_OPT_REPEAT_MAX; w = strtok_r(NULL, " \t", &save))
            cli->optv[CLI_OPT_LISTEN][n++] = w;
        cli->optn[CLI_OPT_LISTEN] = n;
        cli->opt[CLI_OPT_LISTEN] = n ? cli->optv[CLI_OPT_LISTEN][n - 1] : NULL;
    }
}

int cli_config_write(const char *home, const char *key, const char *value)
{
    char path[MM_PATH_MAX + 16], tmp[MM_PATH_MAX + 32];
    char line[CLI_CONFIG_LINE_MAX + 2], copy[CLI_CONFIG_LINE_MAX + 2], *k, *v;
    int done = 0, fd, e;
    size_t total = 0;
    FILE *in, *out;

    path_of(path, sizeof path, home);
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0)
        return -1;
    if (fchmod(fd, 0600) != 0 || !(out = fdopen(fd, "w"))) {
        e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if ((in = fopen(path, "r"))) {
        while (fgets(line, sizeof line, in)) {
            if ((total += strlen(line)) > CLI_CONFIG_FILE_MAX) {
                fclose(in);
                fclose(out);
                unlink(tmp);
                errno = EFBIG;      /* not a config file a person wrote: keep it */
                return -1;
            }
            memcpy(copy, line, sizeof line);
            if (split(copy, &k, &v) == 1 && !strcmp(k, key)) {
                if (value && !done)
                    fprintf(out, "%s = %s\n", key, value);
                done = 1;           /* later lines of the key go too */
                continue;
            }
            fputs(line, out);
            if (!strchr(line, '\n') && feof(in))
                fputc('\n', out);          /* the last line had none */
        }
        fclose(in);
    } else if (errno != ENOENT) {
        e = errno;
        fclose(out);
        unlink(tmp);
        errno = e;
        return -1;
    } else {
        fprintf(out, "# micromentor configuration: 'key = value' lines; see 'mm help config'\n");
    }
    if (value && !done)
        fprintf(out, "%s = %s\n", key, value);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0 || ferror(out)) {
        e = errno;
        fclose(out);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (fclose(out) != 0 || rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}
