/*  qr.c -- QR codes of half blocks (see qr.h). */
#include <qrencode.h>
#include <string.h>

#include "cli/qr.h"

#define QUIET 2

/* 1 if module (x, y) is dark; the quiet zone is light. */
static int dark(const QRcode *q, int x, int y)
{
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return 0;
    return q->data[y * q->width + x] & 1;
}

void cli_qr_print(FILE *f, const char *text)
{
    /* upper half, lower half: light is drawn, dark is left blank */
    static const char *const cell[4] = { "\xe2\x96\x88", "\xe2\x96\x80", "\xe2\x96\x84", " " };
    QRcode *q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L);
    if (!q)
        return;
    for (int y = -QUIET; y < q->width + QUIET; y += 2) {
        for (int x = -QUIET; x < q->width + QUIET; x++)
            fputs(cell[dark(q, x, y) * 2 + dark(q, x, y + 1)], f);
        fputc('\n', f);
    }
    QRcode_free(q);
}
