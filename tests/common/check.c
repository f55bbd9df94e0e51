#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "classify.h"
#include "text.h"
#include "utf8.h"

static bool fail(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return false;
}

/* The only markup the engine writes (reply.c, passage.c). */
static const char *const tags[] = {
	"<p>", "<p class=\"hb-heading\">", "<p class=\"hb-source\">",
	"<p class=\"hb-disclaimer\">", "</p>", "<strong>", "</strong>",
	"<ul>", "</ul>", "<li>", "</li>",
};

bool hb_check_markup(const char *html, char *why, size_t size)
{
	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		bool known = false;
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]) && !known; i++)
			known = strncmp(p, tags[i], strlen(tags[i])) == 0;
		if (!known)
			return fail(why, size, "html has markup the engine does not write: %.40s", p);
	}
	return true;
}

bool hb_check_reply(const struct hb_reply *r, const char *emergency,
		const char *crisis, char *why, size_t size)
{
	if ((unsigned)r->kind > HB_REPLY_SMALLTALK)
		return fail(why, size, "reply kind %d", (int)r->kind);
	if ((unsigned)r->severity > HB_SEVERITY_EMERGENCY)
		return fail(why, size, "severity %d", (int)r->severity);
	if (!r->text || !r->html)
		return fail(why, size, "reply without text or html");
	if (!hb_utf8_valid(r->text, strlen(r->text)))
		return fail(why, size, "reply text is not UTF-8");
	if (!r->rule)
		return fail(why, size, "reply without a rule");
	if (r->n_candidates > HB_MAX_CANDIDATES)
		return fail(why, size, "%zu candidates", r->n_candidates);
	if (!hb_check_markup(r->html, why, size))
		return false;
	switch (r->kind) {
	case HB_REPLY_ESCALATION:
		/* "urgent" red flags escalate too (see a doctor today) */
		if (r->severity == HB_SEVERITY_NONE || !r->category)
			return fail(why, size, "escalation without severity or category");
		if (!strstr(r->text, emergency))
			return fail(why, size, "escalation without the emergency number");
		if (r->severity == HB_SEVERITY_CRISIS && !strstr(r->text, crisis))
			return fail(why, size, "crisis escalation without the crisis line");
		break;
	case HB_REPLY_ANSWER:
		if (!r->article || !r->section || !r->source.title ||
				!r->source.updated)
			return fail(why, size, "answer without article, section or source");
		if (!strstr(r->text, r->source.updated))
			return fail(why, size, "answer without its Content Last Updated date");
		break;
	case HB_REPLY_FALLBACK:
	case HB_REPLY_SMALLTALK:
		if (r->category)
			return fail(why, size, "a red-flag category outside an escalation");
		break;
	}
	return true;
}

struct outcome {
	const struct hb_redflag *emergency, *crisis;
	const struct hb_pattern *emergency_pattern, *crisis_pattern;
	const struct hb_intent *intent;
	int intent_score;
	const struct hb_smalltalk *smalltalk;
	long topic, evidence;
	size_t unknown;
	char *text;
};

static bool classify(const struct hb_engine *e, const char *msg, size_t len,
		bool no_prefilter, struct outcome *out)
{
	struct hb_analysis an;
	bool ok;
	hb_analysis_init(&an);
	an.no_prefilter = no_prefilter;
	an.md = pcre2_match_data_create(16, NULL);
	hb_text_normalize(msg, len, &an.norm);
	ok = an.md && !an.norm.oom;
	if (ok)
		hb_classify_redflags(e, &an);
	/* as hb_engine_reply_ex: only a message of sensible length is read
	 * for a question */
	if (ok && an.norm.len && len <= HB_MAX_MESSAGE)
		ok = hb_classify_question(e, &an);
	*out = (struct outcome){
		an.emergency, an.crisis, an.emergency_pattern, an.crisis_pattern,
		an.intent, an.intent_score,
		an.smalltalk, an.topic, an.evidence, an.unknown,
		strdup(an.text.data ? an.text.data : ""),
	};
	hb_analysis_finish(&an);
	return ok && out->text;
}

bool hb_check_prefilter(const struct hb_engine *e, const char *msg,
		size_t len, char *why, size_t size)
{
	struct outcome fast, slow;
	bool ok = classify(e, msg, len, false, &fast);
	ok = classify(e, msg, len, true, &slow) && ok;
	if (!ok)
		fail(why, size, "out of memory");
	else if (fast.emergency_pattern != slow.emergency_pattern)
		ok = fail(why, size, "prefilter changed the emergency: %s vs %s",
			fast.emergency_pattern ? fast.emergency_pattern->id : "-",
			slow.emergency_pattern ? slow.emergency_pattern->id : "-");
	else if (fast.crisis_pattern != slow.crisis_pattern)
		ok = fail(why, size, "prefilter changed the crisis: %s vs %s",
			fast.crisis_pattern ? fast.crisis_pattern->id : "-",
			slow.crisis_pattern ? slow.crisis_pattern->id : "-");
	else if (strcmp(fast.text, slow.text) != 0)
		ok = fail(why, size, "prefilter changed the lexicon rewrite: "
			"\"%.80s\" vs \"%.80s\"", fast.text, slow.text);
	else if (fast.intent != slow.intent || fast.intent_score != slow.intent_score)
		ok = fail(why, size, "prefilter changed the intent: %s vs %s",
			fast.intent ? fast.intent->id : "-",
			slow.intent ? slow.intent->id : "-");
	else if (fast.smalltalk != slow.smalltalk)
		ok = fail(why, size, "prefilter changed the small talk");
	else if (fast.topic != slow.topic || fast.evidence != slow.evidence ||
			fast.unknown != slow.unknown)
		ok = fail(why, size, "topic detection differs between runs");
	free(fast.text);
	free(slow.text);
	return ok;
}
