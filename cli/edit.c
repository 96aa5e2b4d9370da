/*  edit.c -- a TEXT written in the person's editor; see edit.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/edit.h"
#include "cli/util.h"
#include "core/question.h"
#include "core/utf8.h"
#include "crypto/error.h"

int cli_edit_possible(void)
{
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

const char *cli_edit_command(void)
{
    const char *v;

    if ((v = cli_config_get("editor")) && *v)
        return v;
    if ((v = getenv("EDITOR")) && *v)
        return v;
    if ((v = getenv("VISUAL")) && *v)
        return v;
    return "vi";
}

void cli_edit_comments(char *out, size_t cap, const char *what, const char *to)
{
    snprintf(out, cap, "Write the %s%s%s above.  Lines starting with '#' are dropped;\n"
             "an empty %s aborts and nothing is written.", what, to ? " to " : "",
             to ? to : "", what);
}

/* Write everything or fail. */
static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t) w;
    }
    return 0;
}

/* The file's first content: initial, a blank line, the comments. */
static int write_template(int fd, const char *initial, size_t ilen,
                          const char *comments)
{
    const char *p = comments;

    if (initial && ilen && (write_all(fd, initial, ilen) || write_all(fd, "\n", 1)))
        return -1;
    if (write_all(fd, "\n", 1))
        return -1;
    while (p && *p) {
        size_t n = strcspn(p, "\n");
        if (write_all(fd, n ? "# " : "#", n ? 2 : 1) || write_all(fd, p, n) ||
            write_all(fd, "\n", 1))
            return -1;
        p += n + (p[n] == '\n');
    }
    return 0;
}

/* Run the editor on path and wait; 0, or -1 with why said. */
static int run_editor(cli_t *cli, const char *path)
{
    const char *ed = cli_edit_command();
    struct sigaction ign, oint, oquit;
    int status;
    pid_t pid;

    /* Like git: Ctrl-C is the editor's while it runs. */
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, &oint);
    sigaction(SIGQUIT, &ign, &oquit);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &oint, NULL);
        sigaction(SIGQUIT, &oquit, NULL);
        execl("/bin/sh", "sh", "-c", "eval \"$0 \\\"\\$1\\\"\"", ed, path, (char *) NULL);
        _exit(127);
    }
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &oint, NULL);
    sigaction(SIGQUIT, &oquit, NULL);
    if (pid < 0) {
        cli_error(cli, "cannot start the editor '%s': %s; set one with 'mm config "
                  "set editor COMMAND' or $EDITOR", ed, strerror(errno));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            cli_error(cli, "cannot run the editor '%s'; set one with 'mm config set "
                      "editor COMMAND' or $EDITOR", ed);
        else
            cli_error(cli, "the editor '%s' failed (%s %d); nothing is written", ed,
                      WIFEXITED(status) ? "exit status" : "signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* buf[0..*n) without '#' lines and surrounding blank lines, in place. */
static void strip(char *buf, size_t *n)
{
    size_t i = 0, o = 0, end;

    while (i < *n) {
        const char *nl = memchr(buf + i, '\n', *n - i);
        size_t k = nl ? (size_t) (nl - buf) + 1 : *n;
        if (buf[i] != '#') {
            memmove(buf + o, buf + i, k - i);
            o += k - i;
        }
        i = k;
    }
    /* leading blank lines, then trailing blanks of any kind */
    for (i = 0, end = 0; end < o; end++) {
        if (buf[end] == '\n')
            i = end + 1;
        else if (buf[end] != ' ' && buf[end] != '\t' && buf[end] != '\r')
            break;
    }
    if (end == o)
        i = o;
    memmove(buf, buf + i, o - i);
    o -= i;
    while (o && (buf[o - 1] == '\n' || buf[o - 1] == ' ' || buf[o - 1] == '\t' ||
                 buf[o - 1] == '\r'))
        o--;
    sodium_memzero(buf + o, *n - o);
    buf[o] = '\0';
    *n = o;
}

/* Read the file back, at most cap bytes; malloc'd.  0; -1 (errno); 1 too big. */
static int read_back(const char *path, size_t cap, char **out, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n = 0, r;

    *out = NULL;
    if (!f)
        return -1;
    if (!(buf = malloc(cap + 2))) {
        fclose(f);
        return -1;
    }
    while ((r = fread(buf + n, 1, cap + 1 - n, f)) > 0 && n < cap + 1)
        n += r;
    fclose(f);
    if (n > cap) {
        sodium_memzero(buf, n);
        free(buf);
        return 1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int cli_edit(cli_t *cli, const char *what, const char *initial, size_t ilen,
             const char *comments, size_t max, char **text, size_t *len)
{
    char path[MM_PATH_MAX + 32];
    size_t n = 0;
    char *buf = NULL;
    int fd, r, ex = CLI_EXIT_FAIL;

    *text = NULL;
    *len = 0;
    snprintf(path, sizeof path, "%s/edit-XXXXXX", cli->path);
    if ((fd = mkstemp(path)) < 0)
        return cli_fail(cli, "cannot make a file to edit in %s: %s; check the "
                        "home's permissions", cli->path, strerror(errno));
    if (fchmod(fd, 0600) != 0 || write_template(fd, initial, ilen, comments) != 0) {
        cli_error(cli, "cannot write %s: %s; check the disk", path, strerror(errno));
        close(fd);
        goto out;
    }
    close(fd);
    if (run_editor(cli, path) != 0)
        goto out;
    /* comments and blank lines may take more room than the text */
    r = read_back(path, max + (size_t) 64 * 1024, &buf, &n);
    if (r < 0) {
        cli_error(cli, "cannot read the edited %s back from %s: %s", what, path,
                  strerror(errno));
        goto out;
    }
    if (r > 0) {
        cli_error(cli, "the %s is longer than %zu bytes; shorten it", what, max);
        goto out;
    }
    strip(buf, &n);
    if (n == 0) {
        cli_error(cli, "aborted: the %s is empty; nothing is written", what);
        goto out;
    }
    if (memchr(buf, '\0', n) || !mm_utf8_valid(buf, n)) {
        cli_error(cli, "the %s is not UTF-8 text (or holds a NUL byte); save it as "
                  "UTF-8", what);
        goto out;
    }
    if (n > max) {
        ex = cli_fail(cli, "the %s is %zu bytes, longer than %zu; shorten it", what,
                      n, max);
        goto out;
    }
    *text = buf;
    *len = n;
    buf = NULL;
    ex = CLI_EXIT_OK;
out:
    if (buf) {
        sodium_memzero(buf, n);
        free(buf);
    }
    unlink(path);
    return ex;
}

int cli_edit_text(cli_t *cli, int argc, char **argv, const char *what,
                  const char *comments, char **text, size_t *len)
{
    char dflt[256];

    if (argc > 0)
        return cli_text_read(cli, argc, argv, what, text, len);
    if (!comments) {
        cli_edit_comments(dflt, sizeof dflt, what, NULL);
        comments = dflt;
    }
    return cli_edit(cli, what, NULL, 0, comments, MM_TEXT_MAX, text, len);
}
