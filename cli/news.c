/*  news.c -- engagement events in words and as JSON; see news.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/news.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/peer.h"
#include "crypto/encoding.h"
#include "crypto/error.h"
#include "crypto/idcode.h"

/* The petname of the peer with identity id, made safe, else the start
 * of their identity code. */
static void news_peer(const cli_t *cli, const uint8_t id[32], char out[CLI_NAME_SAFE])
{
    char code[MM_IDCODE_LEN + 1];
    mm_txn_t *txn = NULL;
    mm_peer_t p;

    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK
        && mm_peer_get(txn, id, &p) == MM_OK) {
        cmd_peer_name(out, p.petname);
    } else {
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, id);
        snprintf(out, CLI_NAME_SAFE, "%.12s", code);
    }
    mm_txn_abort(&txn);
}

/* One line after indent, wrapped at words to the terminal (util.h). */
static void say(const char *indent, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const char *indent, const char *fmt, ...)
{
    char buf[1024], hang[32];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    snprintf(hang, sizeof hang, "%s    ", indent);
    cli_print_wrapped(indent, hang, buf, (size_t) n < sizeof buf ? (size_t) n : sizeof buf - 1);
}

/* One event as a line for people. */
void cli_news_line(const cli_t *cli, const char *indent, const mm_news_t *e)
{
    char name[CLI_NAME_SAFE], refer[CLI_NAME_SAFE], when[CLI_TIME_MAX];
    char q[2 * 32 + 1], code[MM_IDCODE_LEN + 1];
    const char *held_for = "";

    news_peer(cli, e->peer, name);
    mm_encoding_hex(q, e->qid, 32);
    q[CLI_SHORT_ID] = '\0';
    switch (e->kind) {
    case MM_NEWS_ANSWERED:
        say(indent, "%s answered %s", name, q);
        break;
    case MM_NEWS_CLARIFIED:
        say(indent, "%s clarified the answer to %s", name, q);
        break;
    case MM_NEWS_ASKED_BACK:
        say(indent, "%s asked you back on %s", name, q);
        break;
    case MM_NEWS_DECLINED:
        if (!e->have_refer) {
            say(indent, "%s declined %s", name, q);
            break;
        }
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, e->refer);
        cmd_peer_name(refer, e->refer_name);
        if (*e->refer_name)
            say(indent, "%s declined %s and suggests %s (%s)", name, q, refer, code);
        else
            say(indent, "%s declined %s and suggests %s", name, q, code);
        break;
    case MM_NEWS_RELEASED:
        say(indent, "your question %s is open in %s's inbox", q, name);
        break;
    case MM_NEWS_HELD:
        if (e->hold == MM_HOLD_ONE) {
            say(indent, "your question %s is held: one question at a time", q);
            break;
        }
        if (e->hold == MM_HOLD_AWAY)
            held_for = " while they are away";
        if (e->ahead == 0)
            say(indent, "your question %s is held%s: you are next", q, held_for);
        else
            say(indent, "your question %s is held%s: %llu ahead of you", q, held_for,
                   (unsigned long long) e->ahead);
        break;
    case MM_NEWS_AWAY:
        cli_time_date(when, e->until);
        say(indent, "%s is away until %s", name, when);
        break;
    case MM_NEWS_BACK:
        say(indent, "%s is back", name);
        break;
    case MM_NEWS_THANKED:
        say(indent, "%s thanked you for your answer to %s", name, q);
        break;
    case MM_NEWS_REPORTED:
        say(indent, "%s reported back on %s", name, q);
        break;
    case MM_NEWS_ASKED:
        say(indent, "%s asked you %s", name, q);
        break;
    case MM_NEWS_WITHDREW:
        say(indent, "%s withdrew %s", name, q);
        break;
    }
}

void cli_news_json(const cli_t *cli, json_t *j, const mm_news_t *e)
{
    static const char *const reasons[] = {
        [MM_HOLD_BUDGET] = "budget", [MM_HOLD_ONE] = "one-at-a-time", [MM_HOLD_AWAY] = "away",
    };
    char hex[2 * 32 + 1], when[CLI_TIME_MAX], code[MM_IDCODE_LEN + 1];
    mm_txn_t *txn = NULL;
    mm_peer_t p;

    json_obj_begin(j, NULL);
    json_str(j, "kind", mm_news_kind_name(e->kind));
    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK
        && mm_peer_get(txn, e->peer, &p) == MM_OK) {
        json_str(j, "peer", p.petname);
    } else {
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, e->peer);
        json_str(j, "peer", code);
    }
    mm_txn_abort(&txn);
    mm_encoding_hex(hex, e->qid, 32);
    json_str(j, "question", e->have_q ? hex : NULL);
    rel_json_time(j, e->time);
    if (e->kind == MM_NEWS_HELD) {
        json_uint(j, "ahead", e->ahead);
        json_str(j, "reason", reasons[e->hold]);
    } else if (e->kind == MM_NEWS_AWAY) {
        cli_time_iso(when, e->until);
        json_str(j, "until", when);
    } else if (e->kind == MM_NEWS_DECLINED) {
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, e->refer);
        json_str(j, "refer", e->have_refer ? code : NULL);
        json_str(j, "refer_name", e->have_refer && *e->refer_name ? e->refer_name : NULL);
    }
    json_obj_end(j);
}

