/*  qr.h -- a text shown as a QR code on a terminal (libqrencode). */
#ifndef MM_CLI_QR_H
#define MM_CLI_QR_H

#include <stdio.h>

/* Print text as a QR code (error correction level L, byte mode) made of
 * Unicode half blocks, two modules a character cell high, dark modules
 * drawn as the terminal's background on a light quiet zone of 2 modules,
 * so it scans on dark and light themes alike.  Prints nothing if the text
 * does not fit in a QR code.  For a terminal only: the caller decides. */
void cli_qr_print(FILE *f, const char *text);

#endif
