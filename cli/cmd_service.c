/*  cmd_service.c -- mm service install | uninstall: a systemd user unit that
 *  runs mm serve (with background sync) for one home.  Optional: mm never
 *  needs it, and nothing here talks to systemd; it writes one file and says
 *  which systemctl commands to run. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/sched.h"
#include "crypto/encoding.h"
#include "crypto/error.h"
#include "crypto/hash.h"
#include "unit_template.h"     /* unit_template[]: cli/mm-serve.service.in */

const char cmd_service_help[] =
    "run mm serve as a systemd user service (optional)\n"
    "\n"
    "DESCRIPTION\n"
    "    'mm service install' writes a systemd user unit that runs\n"
    "        mm --home HOME serve --sync-every DUR\n"
    "    for this home, so it serves your peers and devices and syncs with\n"
    "    them in the background while you are logged in (or always, with\n"
    "    'loginctl enable-linger').  It only writes the file; it then prints\n"
    "    the systemctl commands that enable and start it.  Installing again\n"
    "    replaces the unit (new options).  'mm service uninstall' removes\n"
    "    the unit and its enablement; a running service goes on until\n"
    "    stopped ('systemctl --user stop NAME', printed).\n"
    "\n"
    "    The unit is $XDG_CONFIG_HOME/systemd/user/NAME, or\n"
    "    ~/.config/systemd/user/NAME without XDG_CONFIG_HOME.  NAME is\n"
    "    mm-serve.service for the default home (neither --home nor $MM_HOME\n"
    "    given), else mm-serve-BASE-HASH.service after the home's directory\n"
    "    name and a hash of its full path, so each home gets its own.  Its\n"
    "    output goes to the journal: 'journalctl --user -u NAME'.  Two\n"
    "    services on one machine must not both listen on port 7460: edit\n"
    "    the unit's ExecStart to add --listen.\n"
    "\n"
    "OPTIONS\n"
    "    --sync-every DUR\n"
    "        How often the service syncs in the background (default 5m; 1s\n"
    "        to 7d; see 'mm help serve').\n"
    "    --discover\n"
    "        Also find your devices and peers on the local network\n"
    "        ('mm serve --discover').\n"
    "\n"
    "OUTPUT\n"
    "        wrote /home/ada/.config/systemd/user/mm-serve.service\n"
    "        enable and start it with:\n"
    "          systemctl --user daemon-reload\n"
    "          systemctl --user enable --now mm-serve.service\n"
    "    --json prints {\"unit\", \"name\", \"exec_start\", \"commands\"}\n"
    "    (commands: the systemctl command lines to run, in order).\n"
    "\n"
    "EXAMPLES\n"
    "    mm service install\n"
    "    mm service install --home ~/mm-work --sync-every 1m\n"
    "    mm service uninstall --home ~/mm-work\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the unit was written (or removed)\n"
    "    1  it cannot be written (or none is installed for this home, or\n"
    "       the file there was not written by mm), or there is no home\n"
    "    2  the command line is wrong\n";

#define UNIT_MARK     "# Written by 'mm service install'"
#define UNIT_MAX      8192
#define DEFAULT_EVERY "5m"

/* The unit: our mark, then cli/mm-serve.service.in (embedded at build, the
 * file cmake --install also installs) with @HOME@ and @EXEC@ filled in.
 * The length it needs, as snprintf (cap too small: out is cut). */
static int fill_template(char *out, size_t cap, const char *home, const char *exec)
{
    size_t n = 0;
    int need = snprintf(out, cap, UNIT_MARK "; remove it with 'mm service uninstall'.\n");
    if (need < 0)
        return need;
    n = (size_t) need;
    for (const char *t = unit_template; *t;) {
        const char *put = NULL;
        size_t skip = 1;
        if (strncmp(t, "@HOME@", 6) == 0)
            put = home, skip = 6;
        else if (strncmp(t, "@EXEC@", 6) == 0)
            put = exec, skip = 6;
        size_t len = put ? strlen(put) : 1;
        if (n + len < cap)
            memcpy(out + n, put ? put : t, len);
        n += len;
        t += skip;
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n > INT_MAX ? -1 : (int) n;
}

/* HOME's directory for user units, into out.  CLI_EXIT_OK or fails. */
static int unit_dir(cli_t *cli, char *out, size_t cap)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (x && *x == '/')
        n = snprintf(out, cap, "%s/systemd/user", x);
    else if (home && *home == '/')
        n = snprintf(out, cap, "%s/.config/systemd/user", home);
    else
        return cli_fail(cli, "cannot tell where systemd user units go: neither "
                        "$XDG_CONFIG_HOME nor $HOME is an absolute path; set one");
    if (n < 0 || (size_t) n >= cap)
        return cli_fail(cli, "the unit directory's path is too long");
    return CLI_EXIT_OK;
}

/* The home's absolute path: resolved if it exists, else made absolute. */
static int abs_home(cli_t *cli, char out[PATH_MAX])
{
    char cwd[PATH_MAX];
    if (realpath(cli->path, out))
        return CLI_EXIT_OK;
    if (cli->path[0] == '/') {
        snprintf(out, PATH_MAX, "%s", cli->path);
        return CLI_EXIT_OK;
    }
    if (!getcwd(cwd, sizeof cwd)
        || snprintf(out, PATH_MAX, "%s/%s", cwd, cli->path) >= PATH_MAX)
        return cli_fail(cli, "cannot tell the full path of %s; give --home as an "
                        "absolute path", cli->path);
    return CLI_EXIT_OK;
}

/* mm-serve.service for the default home, else mm-serve-BASE-HASH.service. */
static void unit_name(const cli_t *cli, const char *home, char *out, size_t cap)
{
    const char *env = getenv("MM_HOME"), *base = strrchr(home, '/');
    uint8_t h[MM_HASH_BYTES];
    char hex[2 * MM_HASH_BYTES + 1], b[33];
    size_t n = 0;
    if (!cli->home_flag && !(env && *env)) {
        snprintf(out, cap, "mm-serve.service");
        return;
    }
    /* a name systemd takes as it is: [a-z0-9_.-] of the directory's name */
    for (base = base ? base + 1 : home; *base && n < sizeof b - 1; base++) {
        char c = *base;
        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
            || c == '-')
            b[n++] = c;
    }
    b[n] = '\0';
    mm_hash(h, home, strlen(home));
    mm_encoding_hex(hex, h, 4);
    snprintf(out, cap, "mm-serve-%s%s%.8s.service", b, n ? "-" : "", hex);
}

/* Append s to out as one ExecStart word: quoted when it has blanks or
 * quotes, % and $ doubled (systemd's specifiers and variables).  0, or -1
 * if it does not fit or holds a character a unit line cannot. */
static int exec_word(char *out, size_t cap, const char *s)
{
    size_t n = strlen(out);
    int quote = s[0] == '\0' || strpbrk(s, " \t\"'\\;") != NULL;
    if (n && n + 1 < cap)
        out[n++] = ' ';
    if (quote && n + 1 < cap)
        out[n++] = '"';
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return -1;
        if (n + 4 >= cap)
            return -1;
        if (*s == '%' || *s == '$')
            out[n++] = *s;
        else if (quote && (*s == '"' || *s == '\\'))
            out[n++] = '\\';
        out[n++] = *s;
    }
    if (quote) {
        if (n + 2 >= cap)
            return -1;
        out[n++] = '"';
    }
    out[n] = '\0';
    return 0;
}

/* s with each % doubled (a unit's specifiers), into out; -1 if too long
 * or holding a control character. */
static int unit_text(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f || n + 3 >= cap)
            return -1;
        if (*s == '%')
            out[n++] = '%';
        out[n++] = *s;
    }
    out[n] = '\0';
    return 0;
}

/* path written whole or not at all: a temporary file, fsync, rename. */
static int write_file(const char *path, const char *text)
{
    char tmp[PATH_MAX + 8];
    size_t len = strlen(text);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int ok = write(fd, text, len) == (ssize_t) len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* mkdir -p dir (new directories 0700). */
static int make_dirs(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        if (!(*p = c))
            return 0;
    }
}

/* 1 if mm serve takes the option --name (the command table says). */
static int serve_takes(const char *name)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        if (!strcmp(cli_commands[i].name, "serve") && cli_commands[i].opts)
            for (const struct option *o = cli_commands[i].opts; o->name; o++)
                if (!strcmp(o->name, name))
                    return 1;
    return 0;
}

int cmd_service_install(cli_t *cli, int argc, char **argv)
{
    const char *every = cli->opt[CLI_OPT_SYNC_EVERY] ? cli->opt[CLI_OPT_SYNC_EVERY]
                                                      : DEFAULT_EVERY;
    char home[PATH_MAX], exe[PATH_MAX], dir[PATH_MAX], name[96], path[PATH_MAX + 96];
    char exec[4096] = "", unit[UNIT_MAX], cmd[160], desc[2 * PATH_MAX];
    int ex;
    ssize_t n;
    json_t j;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (cli_duration_ms(every, MM_SCHED_MAX_MS) < MM_SCHED_MIN_MS)
        return cli_usage(cli, "--sync-every '%s' is not a duration like 30s, 5m or 1h "
                         "(from 1s to 7d)", every);
    /* a unit whose mm serve refuses its command line would only fail later */
    if (cli->opt[CLI_OPT_DISCOVER] && !serve_takes("discover"))
        return cli_usage(cli, "--discover: this mm serve has no --discover");
    if ((ex = abs_home(cli, home)) != CLI_EXIT_OK || (ex = unit_dir(cli, dir, sizeof dir))
        != CLI_EXIT_OK)
        return ex;
    /* the mm running now is the one the service runs */
    if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
        return cli_fail(cli, "cannot tell where this mm is installed (/proc/self/exe); "
                        "check that /proc is mounted");
    exe[n] = '\0';
    if (strstr(exe, " (deleted)"))
        return cli_fail(cli, "this mm (%s) was replaced or removed since it started; run "
                        "the installed mm", exe);
    if (exec_word(exec, sizeof exec, exe) || exec_word(exec, sizeof exec, "--home")
        || exec_word(exec, sizeof exec, home) || exec_word(exec, sizeof exec, "serve")
        || exec_word(exec, sizeof exec, "--sync-every") || exec_word(exec, sizeof exec, every)
        || (cli->opt[CLI_OPT_DISCOVER] && exec_word(exec, sizeof exec, "--discover")))
        return cli_fail(cli, "the path of mm or of the home holds a character a systemd "
                        "unit cannot; move it");
    if (unit_text(desc, sizeof desc, home))
        return cli_fail(cli, "the home's path holds a character a systemd unit cannot; "
                        "move it");
    unit_name(cli, home, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    n = fill_template(unit, sizeof unit, desc, exec);
    if (n < 0 || (size_t) n >= sizeof unit)
        return cli_fail(cli, "the unit would be too long; use a shorter home path");
    if (make_dirs(dir) != 0 || write_file(path, unit) != 0) {
        cli_set_code(MM_EIO);
        return cli_fail(cli, "cannot write %s: %s; check the directory's permissions", path,
                        strerror(errno));
    }
    snprintf(cmd, sizeof cmd, "systemctl --user enable --now %s", name);
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "unit", path);
        json_str(&j, "name", name);
        json_str(&j, "exec_start", exec);
        json_arr_begin(&j, "commands");
        json_str(&j, NULL, "systemctl --user daemon-reload");
        json_str(&j, NULL, cmd);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
        return CLI_EXIT_OK;
    }
    printf("wrote %s\n", path);
    printf("  it runs: %s\n", exec);
    printf("enable and start it with:\n");
    printf("  systemctl --user daemon-reload\n");
    printf("  %s\n", cmd);
    printf("to keep it running while you are logged out: loginctl enable-linger\n");
    return CLI_EXIT_OK;
}

int cmd_service_uninstall(cli_t *cli, int argc, char **argv)
{
    char home[PATH_MAX], dir[PATH_MAX], name[96], path[PATH_MAX + 96],
         wants[PATH_MAX + 128], link[PATH_MAX], head[sizeof UNIT_MARK];
    int ex, linked = 0;
    ssize_t n;
    json_t j;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if ((ex = cli_home_path(cli)) != CLI_EXIT_OK || (ex = abs_home(cli, home)) != CLI_EXIT_OK
        || (ex = unit_dir(cli, dir, sizeof dir)) != CLI_EXIT_OK)
        return ex;
    unit_name(cli, home, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        cli_set_code(MM_ENOTFOUND);
        return cli_fail(cli, "no service is installed for %s (no %s)", home, path);
    }
    n = read(fd, head, sizeof head - 1);
    close(fd);
    if (n != (ssize_t) sizeof head - 1 || memcmp(head, UNIT_MARK, sizeof head - 1) != 0) {
        cli_set_code(MM_EEXIST);
        return cli_fail(cli, "%s was not written by 'mm service install'; remove it "
                        "yourself if you mean to", path);
    }
    /* its enablement: the link systemctl enable made, if it points here */
    snprintf(wants, sizeof wants, "%s/default.target.wants/%s", dir, name);
    if ((n = readlink(wants, link, sizeof link - 1)) > 0) {
        link[n] = '\0';
        if ((strcmp(link, path) == 0 || strcmp(link, name) == 0) && unlink(wants) == 0)
            linked = 1;
    }
    if (unlink(path) != 0) {
        cli_set_code(MM_EIO);
        return cli_fail(cli, "cannot remove %s: %s", path, strerror(errno));
    }
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "unit", path);
        json_str(&j, "name", name);
        json_bool(&j, "was_enabled", linked);
        json_arr_begin(&j, "commands");
        json_str(&j, NULL, "systemctl --user daemon-reload");
        char stop[160];
        snprintf(stop, sizeof stop, "systemctl --user stop %s", name);
        json_str(&j, NULL, stop);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
        return CLI_EXIT_OK;
    }
    printf("removed %s%s\n", path, linked ? " (and its enablement)" : "");
    printf("stop a running one with:\n");
    printf("  systemctl --user daemon-reload\n");
    printf("  systemctl --user stop %s\n", name);
    return CLI_EXIT_OK;
}
