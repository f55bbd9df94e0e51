/*
 * healthbot engine: answers health questions with verbatim passages from a
 * trusted article library.
 *
 * The engine is pure computation after loading: it reads its content and
 * intent files in hb_engine_create() and does no other I/O. An engine is
 * immutable once created, so one engine may serve many conversations and be
 * swapped for a freshly loaded one (reload) without touching them.
 * Conversation state lives in a separate hb_conversations store owned by
 * the caller.
 */
#ifndef HEALTHBOT_H
#define HEALTHBOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HB_VERSION "0.1.0"

#if defined(__GNUC__) && defined(HB_BUILDING_ENGINE)
#define HB_EXPORT __attribute__((visibility("default")))
#else
#define HB_EXPORT
#endif

struct hb_engine;
struct hb_conversations;

/* Where a data file failed to load: enough for a content editor to fix it. */
struct hb_error {
	char file[256];
	char entry[128];   /* intent/rule/section id, or "" */
	int line;          /* 1-based, 0 when unknown */
	int column;        /* 1-based (byte offset in a pattern + 1), 0 when unknown */
	char message[512];
};

struct hb_engine_options {
	const char *content_dir;      /* required */
	const char *intents_dir;      /* required */
	/* Extra article directory loaded after content_dir (fixtures, add-ons). */
	const char *extra_content_dir;
	const char *emergency_number; /* default "911" */
	const char *crisis_number;    /* default "988" */
	/* Interpret patterns instead of JIT-compiling them: for memory
	 * checkers, and for sandboxes that forbid writable executable
	 * memory (systemd's MemoryDenyWriteExecute). Much slower. */
	bool no_jit;
	/* Reply wording for a locale: INTENTS_DIR/locales/LOCALE.json
	 * (e.g. "en-GB"); NULL for the base wording. */
	const char *locale;
};

enum hb_reply_kind {
	HB_REPLY_ANSWER,
	HB_REPLY_ESCALATION,
	HB_REPLY_FALLBACK,
	HB_REPLY_SMALLTALK,
};

enum hb_severity {
	HB_SEVERITY_NONE,
	HB_SEVERITY_URGENT,
	HB_SEVERITY_CRISIS,
	HB_SEVERITY_EMERGENCY,
};

/* One scored candidate, for --explain and clinical review. */
struct hb_candidate {
	const char *kind;    /* "redflag", "intent", "smalltalk", "topic" */
	const char *id;
	const char *pattern; /* the pattern source that matched, or NULL */
	int score;
};

#define HB_MAX_CANDIDATES 8

struct hb_source {
	const char *title;
	const char *publisher;
	const char *updated; /* "Content Last Updated" date, as printed */
	const char *copyright;
};

/*
 * A reply. Strings are owned by the engine (valid while it lives) except
 * text and html, which belong to the reply: release with hb_reply_finish().
 */
struct hb_reply {
	enum hb_reply_kind kind;
	enum hb_severity severity;
	const char *intent;   /* intent or small-talk id; NULL when none */
	const char *article;  /* article id; NULL when none */
	const char *section;  /* section heading; NULL when none */
	const char *rule;     /* red-flag rule, intent pattern or fallback reason */
	const char *category; /* red-flag category for escalations, else NULL */
	/* Language of the reply's service wording: "en", or "es" when the
	 * red flag that fired is a Spanish rule or the message reads as
	 * Spanish (article text is never translated: a Spanish question gets
	 * the English passage under a Spanish line saying so). Set by
	 * hb_engine_reply(); NULL (English) from greeting and section. */
	const char *lang;
	struct hb_source source; /* all NULL unless an article is quoted */
	char *text;
	char *html;
	size_t n_candidates;
	struct hb_candidate candidates[HB_MAX_CANDIDATES];
};

/* Longest message the engine classifies; longer text is screened for red
 * flags and otherwise answered with a "too long" fallback. */
#define HB_MAX_MESSAGE 4096

HB_EXPORT struct hb_engine *hb_engine_create(const struct hb_engine_options *opts,
		struct hb_error *err);
HB_EXPORT void hb_engine_destroy(struct hb_engine *engine);

/*
 * Answers one message. `conv` and `conv_id` may be NULL for a stateless
 * question. `now` is a monotonic time in seconds, used to age conversation
 * state. Returns false only when memory runs out (err set in out->rule).
 */
HB_EXPORT bool hb_engine_reply(const struct hb_engine *engine,
		struct hb_conversations *conv, const char *conv_id,
		const char *msg, size_t len, int64_t now, struct hb_reply *out);
HB_EXPORT void hb_reply_finish(struct hb_reply *reply);

/* Collect every red flag, intent and small-talk match with its score in
 * reply->candidates, not just the winner (for clinical review). */
#define HB_REPLY_EXPLAIN 0x1u
HB_EXPORT bool hb_engine_reply_ex(const struct hb_engine *engine,
		struct hb_conversations *conv, const char *conv_id,
		const char *msg, size_t len, int64_t now, unsigned flags,
		struct hb_reply *out);

HB_EXPORT const char *hb_reply_kind_str(enum hb_reply_kind kind);
HB_EXPORT const char *hb_severity_str(enum hb_severity severity);

/* The greeting a channel shows when a conversation opens. */
HB_EXPORT bool hb_engine_greeting(const struct hb_engine *engine, struct hb_reply *out);
/* The numbers escalations tell people to call, as configured (or the
 * defaults), for channels that present them apart from the text, e.g. as
 * tel: links. */
HB_EXPORT const char *hb_engine_emergency_number(const struct hb_engine *engine);
HB_EXPORT const char *hb_engine_crisis_number(const struct hb_engine *engine);
/* A channel's own service wording from the data's "replies" (in the
 * engine's locale), e.g. "command_help": the text as written, its
 * placeholders for the caller to fill; NULL when the data has none. */
HB_EXPORT const char *hb_engine_wording(const struct hb_engine *engine,
		const char *key);

/* Library introspection, for staff commands and `healthbot check`. */
HB_EXPORT size_t hb_engine_article_count(const struct hb_engine *engine);
/* Returns the article id, and its title in *title. */
HB_EXPORT const char *hb_engine_article(const struct hb_engine *engine, size_t i,
		const char **title);

/* What hb_engine_section() found. */
enum hb_section_result {
	HB_SECTION_OK,         /* out: the whole section, with its source */
	HB_SECTION_NO_TOPIC,   /* no article matches topic; out: a fallback */
	HB_SECTION_NO_SECTION, /* the article has no such section; out: a
	                        * fallback naming the sections it has */
	HB_SECTION_ERROR,      /* out of memory; out has no text */
};

/*
 * A whole section, chosen by topic name and section name in plain words
 * (e.g. "cramps", "self-care"). Release out with hb_reply_finish()
 * whatever the result.
 */
HB_EXPORT enum hb_section_result hb_engine_section(
		const struct hb_engine *engine, const char *topic,
		const char *section, struct hb_reply *out);

/*
 * Conversation state: the last topic and question of each conversation,
 * bounded in count (least recently used is dropped) and age.
 */
HB_EXPORT struct hb_conversations *hb_conversations_create(size_t max_count,
		int64_t max_age);
HB_EXPORT void hb_conversations_destroy(struct hb_conversations *conv);
HB_EXPORT void hb_conversations_forget(struct hb_conversations *conv, const char *id);
HB_EXPORT size_t hb_conversations_count(const struct hb_conversations *conv);

/*
 * Engine self-check (healthbot check). Lines go to the callback. It returns
 * false on an error, a failed line or an escalation line not caught with
 * one of its categories; false alarms (benign lines that escalated) and
 * categories that the rules and the set do not share are counted for the
 * caller to judge (the CLI's --max-false-alarms and --redflags).
 */
struct hb_check_report {
	int errors;
	int warnings;
	int utterances;
	int utterance_failures;
	int redflag_total;
	int redflag_hits;        /* escalated with an expected category */
	int benign;              /* lines that must not escalate */
	int false_alarms;        /* benign lines that escalated */
	int categories;          /* red-flag categories with a line */
	int categories_missed;   /* of those, below 100% recall */
	int categories_untested; /* categories of the rules with no line */
	int categories_unruled;  /* categories of the set with no rule */
	int language_lines;      /* lines that name the reply's language */
	int language_failures;   /* replies not in the line's language (a
	                          * line without "@lang" is English) */
};
typedef void (*hb_check_print_fn)(void *data, const char *line);
HB_EXPORT bool hb_engine_check(const struct hb_engine *engine, const char *utterances,
		size_t utterances_len, const char *utterances_name,
		int max_age_days, int64_t today_days,
		hb_check_print_fn print, void *data, struct hb_check_report *report);

#ifdef __cplusplus
}
#endif

#endif
