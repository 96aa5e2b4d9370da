/*  replay.c -- runs a fuzz harness without libFuzzer, on files.
 *
 *  replay_TARGET PATH...              each file, and each file of each
 *                                     directory (names starting with '.'
 *                                     skipped), in name order, through
 *                                     LLVMFuzzerTestOneInput
 *  replay_TARGET --write-seeds DIR    write the harness's seed corpus
 *
 *  ctest replays tests/fuzz/corpus/TARGET and tests/fuzz/regress/TARGET
 *  with it in every build, so an input that once broke an invariant keeps
 *  being checked (under ASan and UBSan in the sanitizer build) with any
 *  compiler.  A harness signals a finding by crashing or abort(): the test
 *  fails.  Exit 1 if a path cannot be read, 0 otherwise.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static long replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    do {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!nb) {
                fprintf(stderr, "replay: out of memory for %s\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    /* an exact-size copy, so ASan sees a read past the input's end */
    uint8_t *in = malloc(len ? len : 1);
    if (!in) {
        free(buf);
        return -1;
    }
    memcpy(in, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(in, len);
    free(in);
    return 1;
}

static int skip_dot(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

/* Files replayed, or -1. */
static long replay_path(const char *path)
{
    struct stat st;
    struct dirent **names;
    long total = 0;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path);
    int n = scandir(path, &names, skip_dot, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s\n", path);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char sub[FZ_PATH_MAX];
        long k = -1;
        if (total >= 0 && snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name)
                              < (int) sizeof sub)
            k = replay_path(sub);
        total = total < 0 || k < 0 ? -1 : total + k;
        free(names[i]);
    }
    free(names);
    return total;
}

int main(int argc, char **argv)
{
    long total = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        fz_seeds(argv[2]);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH... | --write-seeds DIR\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        long k = replay_path(argv[i]);
        if (k < 0)
            return 1;
        total += k;
    }
    /* on stderr: a harness may have sent stdout to /dev/null */
    fprintf(stderr, "replay: %ld inputs, no finding\n", total);
    return 0;
}
