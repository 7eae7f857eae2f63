// SPDX-License-Identifier: GPL-2.0
/*
 * The one option parser of the commands (cli.h): every command's table,
 * --pin-dir and -h/--help for all, one precise message for a bad option,
 * and the -h text made from the table.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

/* Taken by every command, after its own options. */
static const struct cli_opt common_opts[] = {
	{ "pin-dir", 'p', CLI_CONF, "DIR",
	  "where the maps are pinned (default " MXG_PIN_DIR_DEFAULT ")", .key = "pin_dir" },
	{ "help", 'h', CLI_FLAG, NULL, "this help", .off = 0 },
	{ 0 }
};

#define OPT_PIN_DIR	(&common_opts[0])
#define OPT_HELP	(&common_opts[1])

/* Every option cmd takes, its own first: call fn on each until it returns true. */
static const struct cli_opt *each_opt(const struct cli_command *cmd,
				      bool (*fn)(const struct cli_opt *o, void *arg), void *arg)
{
	const struct cli_opt *o;

	for (o = cmd->opts; o && o->name; o++)
		if (fn(o, arg))
			return o;
	for (o = common_opts; o->name; o++)
		if (fn(o, arg))
			return o;
	return NULL;
}

/* Print arg for a message, control characters escaped: it is user input. */
static void put_arg(FILE *f, const char *arg)
{
	const unsigned char *p;

	for (p = (const unsigned char *)arg; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/* "mxguard CMD: --NAME ARG: why" */
static int bad_value(const struct cli_command *cmd, const struct cli_opt *o,
		     const char *arg, const char *why)
{
	fprintf(stderr, "mxguard %s: --%s ", cmd->name, o->name);
	put_arg(stderr, arg);
	fprintf(stderr, ": %s\n", why);
	return EXIT_USAGE;
}

/* Edit distance (insert, delete, substitute, swap two neighbours), capped. */
static unsigned int distance(const char *a, size_t la, const char *b)
{
	unsigned int d[3][40], best;
	size_t lb = strlen(b), i, j;

	if (la >= 40 || lb >= 40)
		return 99;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned int)j;
	for (i = 1; i <= la; i++) {
		unsigned int *cur = d[i % 3], *prev = d[(i - 1) % 3], *pp = d[(i + 1) % 3];

		cur[0] = (unsigned int)i;
		for (j = 1; j <= lb; j++) {
			best = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
	}
	return d[la % 3][lb];
}

struct name_query {
	const char *name;
	size_t len;
};

static bool name_is(const struct cli_opt *o, void *arg)
{
	const struct name_query *q = arg;

	return strlen(o->name) == q->len && !strncmp(o->name, q->name, q->len);
}

static bool short_is(const struct cli_opt *o, void *arg)
{
	return o->short_name && o->short_name == *(const char *)arg;
}

/* What a long name that is no option's exact name may stand for. */
struct name_match {
	const char *name;
	size_t len;
	unsigned int prefixed;		/* options whose name starts with it */
	const struct cli_opt *prefix;	/* the last of them */
	char list[256];			/* their names, for the message */
	size_t used;
	const struct cli_opt *near;	/* the nearest name by edit distance */
	unsigned int best;
};

static bool match_name(const struct cli_opt *o, void *arg)
{
	struct name_match *m = arg;
	unsigned int d;

	if (m->len && !strncmp(o->name, m->name, m->len)) {
		m->prefixed++;
		m->prefix = o;
		if (m->used < sizeof(m->list))
			m->used += (size_t)snprintf(m->list + m->used, sizeof(m->list) - m->used,
						    "%s--%s", m->used ? ", " : "", o->name);
	}
	d = distance(m->name, m->len, o->name);
	if (d < m->best) {
		m->best = d;
		m->near = o;
	}
	return false;	/* see them all */
}

/*
 * The long option for name (len bytes): its exact name, else a unique
 * prefix of one, as getopt_long took them. Else say why not, once.
 */
static const struct cli_opt *find_long(const struct cli_command *cmd, const char *name,
				       size_t len, const char *given)
{
	struct name_query q = { name, len };
	struct name_match m = { .name = name, .len = len, .best = 3 };
	const struct cli_opt *o;

	o = each_opt(cmd, name_is, &q);
	if (o)
		return o;
	each_opt(cmd, match_name, &m);
	if (m.prefixed == 1)
		return m.prefix;
	if (m.prefixed > 1)
		cli_err(cmd->name, "option \"%s\" is ambiguous (%s)", given, m.list);
	else if (m.near && m.best < len)
		cli_err(cmd->name, "unknown option \"%s\" (did you mean --%s?)", given,
			m.near->name);
	else
		cli_err(cmd->name, "unknown option \"%s\" (mxguard %s -h lists them)", given,
			cmd->name);
	return NULL;
}

/* Put the option's value where the table says. */
static int take(const struct cli_command *cmd, const struct cli_opt *o, const char *arg,
		void *args, struct cli_ctx *ctx)
{
	void *dst = (char *)args + o->off;
	unsigned long long v;
	char why[256] = "";
	char *end;
	uint64_t ns;

	switch (o->type) {
	case CLI_FLAG:
		*(bool *)dst = true;
		return 0;
	case CLI_STRING:
		*(const char **)dst = arg;
		return 0;
	case CLI_UINT:
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || v < o->min ||
		    (o->max && v > o->max) || v > ULONG_MAX) {
			if (o->max)
				snprintf(why, sizeof(why), "expected a whole number from %llu to %llu",
					 o->min, o->max);
			else
				snprintf(why, sizeof(why), "expected a whole number of at least %llu",
					 o->min);
			return bad_value(cmd, o, arg, why);
		}
		*(unsigned long *)dst = (unsigned long)v;
		return 0;
	case CLI_DURATION:
		if (mxg_parse_duration(arg, &ns) || ns < o->min || (o->max && ns > o->max)) {
			char lo[32], hi[32];

			mxg_duration_str(o->min, lo, sizeof(lo));
			mxg_duration_str(o->max, hi, sizeof(hi));
			if (o->max)
				snprintf(why, sizeof(why), "expected a duration from %s to %s (e.g. 1s, 500ms, 10m)",
					 o->min ? lo : "0", hi);
			else
				snprintf(why, sizeof(why), "expected a duration of at least %s (e.g. 1s, 500ms, 10m)",
					 lo);
			return bad_value(cmd, o, arg, why);
		}
		*(uint64_t *)dst = ns;
		return 0;
	case CLI_PARSE:
		if (o->parse(arg, dst, why, sizeof(why)))
			return bad_value(cmd, o, arg, why);
		return 0;
	case CLI_CONF:
	case CLI_CONF_KV:
		if (ctx->n_conf == CLI_MAX_CONF) {
			cli_err(cmd->name, "more than %d config settings on the command line",
				CLI_MAX_CONF);
			return EXIT_USAGE;
		}
		ctx->conf[ctx->n_conf].key = o->type == CLI_CONF ? o->key : NULL;
		ctx->conf[ctx->n_conf].value = o->metavar ? arg : o->value;
		ctx->n_conf++;
		if (o == OPT_PIN_DIR)
			ctx->pin_dir = arg;
		return 0;
	}
	return 0;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *args,
	      struct cli_ctx *ctx)
{
	bool help = false, options = true;
	int i, n = 0, ret;

	ctx->pin_dir = MXG_PIN_DIR_DEFAULT;
	ctx->n_conf = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *arg = NULL;
		const struct cli_opt *o;

		if (!options || a[0] != '-' || !a[1]) {
			/* An operand: compact them at the front, in order. */
			argv[1 + n++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			options = false;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			char given[128];

			snprintf(given, sizeof(given), "%.*s", (int)(len + 2), a);
			o = find_long(cmd, a + 2, len, given);
			if (!o)
				return EXIT_USAGE;
			if (eq && !o->metavar) {
				cli_err(cmd->name, "option \"--%s\" takes no argument (given \"%s\")",
					o->name, a);
				return EXIT_USAGE;
			}
			if (eq)
				arg = eq + 1;
			else if (o->bare)
				arg = o->bare;
			else if (o->metavar && i + 1 < argc)
				arg = argv[++i];
			else if (o->metavar) {
				cli_err(cmd->name, "option \"--%s\" needs an argument (%s)",
					o->name, o->metavar);
				return EXIT_USAGE;
			}
			if (o == OPT_HELP)
				help = true;
			else if ((ret = take(cmd, o, arg, args, ctx)))
				return ret;
			continue;
		}
		/* Short options, maybe several in one word: -je, -n5, -n 5. */
		for (a++; *a; a++) {
			char c = *a;

			o = each_opt(cmd, short_is, &c);
			if (!o) {
				if (a == argv[i] + 1 && !a[1])
					cli_err(cmd->name, "unknown option \"-%c\" (mxguard %s -h lists them)",
						*a, cmd->name);
				else
					cli_err(cmd->name, "unknown option \"-%c\" in \"%s\" (mxguard %s -h lists them)",
						*a, argv[i], cmd->name);
				return EXIT_USAGE;
			}
			arg = NULL;
			if (o->metavar) {
				if (a[1])
					arg = a + 1;
				else if (o->bare)
					arg = o->bare;
				else if (i + 1 < argc)
					arg = argv[++i];
				else {
					cli_err(cmd->name, "option \"-%c\" needs an argument (%s)",
						*a, o->metavar);
					return EXIT_USAGE;
				}
			}
			if (o == OPT_HELP)
				help = true;
			else if ((ret = take(cmd, o, arg, args, ctx)))
				return ret;
			if (arg && a[1] && arg == a + 1)
				break;
		}
	}
	argv[1 + n] = NULL;
	if (help) {
		cli_usage(cmd, stdout);
		return EXIT_OK;
	}
	ctx->argc = n;
	ctx->argv = argv + 1;
	if ((unsigned int)n < cmd->min_operands) {
		cli_err(cmd->name, "%s (mxguard %s -h)", cmd->missing ? cmd->missing :
			"expected more arguments", cmd->name);
		return EXIT_USAGE;
	}
	if ((unsigned int)n > cmd->max_operands) {
		cli_err(cmd->name, "unexpected argument \"%s\" (mxguard %s -h)",
			ctx->argv[cmd->max_operands], cmd->name);
		return EXIT_USAGE;
	}
	return CLI_GO;
}

/* ---- the -h text --------------------------------------------------------- */

#define USAGE_WIDTH	79

struct wrap {
	FILE *f;
	size_t col, indent;
	bool fresh;		/* at the start of a line: no space before the word */
};

static void wrap_word(struct wrap *w, const char *word)
{
	size_t len = strlen(word);

	if (!w->fresh && w->col + 1 + len > USAGE_WIDTH) {
		fprintf(w->f, "\n%*s", (int)w->indent, "");
		w->col = w->indent;
	} else if (!w->fresh) {
		fputc(' ', w->f);
		w->col++;
	}
	fputs(word, w->f);
	w->col += len;
	w->fresh = false;
}

/* "[--name ARG]...", "[--name[=ARG]]", "[--flag]" */
static void synopsis_item(const struct cli_opt *o, char *buf, size_t size)
{
	if (!o->metavar)
		snprintf(buf, size, "[--%s]", o->name);
	else if (o->bare)
		snprintf(buf, size, "[--%s[=%s]]", o->name, o->metavar);
	else
		snprintf(buf, size, "[--%s %s]%s", o->name, o->metavar, o->repeat ? "..." : "");
}

/* "  -x, --name ARG       help", the help wrapped under itself. */
static void option_line(FILE *f, const struct cli_opt *o, const char *help)
{
	char head[64], word[128];
	struct wrap w = { f, 0, 25, true };
	const char *p = help;

	if (o->short_name)
		snprintf(head, sizeof(head), "  -%c, --%s", o->short_name, o->name);
	else
		snprintf(head, sizeof(head), "      --%s", o->name);
	if (o->metavar)
		snprintf(head + strlen(head), sizeof(head) - strlen(head), "%s%s%s",
			 o->bare ? "[=" : " ", o->metavar, o->bare ? "]" : "");
	fputs(head, f);
	/* A head too long for its column gets a line of its own. */
	if (strlen(head) + 2 > w.indent)
		fprintf(f, "\n%*s", (int)w.indent, "");
	else
		fprintf(f, "%*s", (int)(w.indent - strlen(head)), "");
	w.col = w.indent;
	while (*p) {
		size_t len = strcspn(p, " ");

		if (len >= sizeof(word))
			len = sizeof(word) - 1;
		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		wrap_word(&w, word);
		p += len;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

void cli_usage(const struct cli_command *cmd, FILE *f)
{
	char head[64], item[128];
	const struct cli_opt *o;
	struct wrap w = { f, 0, 0, false };

	w.col = (size_t)snprintf(head, sizeof(head), "usage: mxguard %s", cmd->name);
	w.indent = w.col + 1;
	fputs(head, f);
	for (o = cmd->opts; o && o->name; o++) {
		synopsis_item(o, item, sizeof(item));
		wrap_word(&w, item);
	}
	if (!cmd->no_maps) {
		synopsis_item(OPT_PIN_DIR, item, sizeof(item));
		wrap_word(&w, item);
	}
	if (cmd->operands)
		wrap_word(&w, cmd->operands);
	fprintf(f, "\n\n%s\n\nOptions:\n", cmd->about);
	for (o = cmd->opts; o && o->name; o++)
		option_line(f, o, o->help);
	option_line(f, OPT_PIN_DIR, cmd->no_maps ?
		    "taken by every command; this one uses no maps" : OPT_PIN_DIR->help);
	option_line(f, OPT_HELP, OPT_HELP->help);
}

void cli_usage_all(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: mxguard COMMAND [OPTIONS]\n\n"
		"An XDP shield for SMTP servers against AUTH brute force and connection floods.\n\n"
		"Commands:\n");
	for (i = 0; i < cli_n_commands; i++)
		if (!cli_commands[i]->hidden)
			fprintf(f, "  %-13s %s\n", cli_commands[i]->name,
				cli_commands[i]->summary);
	fprintf(f, "\nEvery command takes --pin-dir DIR (default %s) and -h.\n"
		"Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.\n",
		MXG_PIN_DIR_DEFAULT);
}

/* ---- bash completion, from the same tables -------------------------------- */

/* What an option's argument or an operand completes to. */
enum comp_kind {
	COMP_NONE,	/* nothing to offer: a duration, a number, a CIDR */
	COMP_FILE,
	COMP_DIR,
	COMP_IFACE,	/* the names in /sys/class/net */
	COMP_KEY,	/* a config key, then "=" */
	COMP_CHOICES,	/* the words of "a|b|c" */
};

/* "auto|native|generic": two or more lower-case words between bars. */
static bool is_choices(const char *s)
{
	bool bar = false;
	const char *p;

	for (p = s; *p; p++) {
		if (*p == '|') {
			if (p == s || p[1] == '|' || !p[1])
				return false;
			bar = true;
		} else if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
			return false;
		}
	}
	return bar;
}

/* The metavars of the tables say what an argument is: FILE, DIR, IFACE... */
static enum comp_kind comp_kind(const char *metavar)
{
	if (!metavar)
		return COMP_NONE;
	if (is_choices(metavar))
		return COMP_CHOICES;
	if (strstr(metavar, "FILE") || strstr(metavar, "LOG"))
		return COMP_FILE;
	if (strstr(metavar, "DIR"))
		return COMP_DIR;
	if (strstr(metavar, "IFACE"))
		return COMP_IFACE;
	if (!strcmp(metavar, "key=value"))
		return COMP_KEY;
	return COMP_NONE;
}

/* The shell function's name for cmd: "check-config" -> "check_config". */
static void comp_fn_name(FILE *f, const char *cmd)
{
	fputs("_mxguard_value_", f);
	for (; *cmd; cmd++)
		fputc(*cmd == '-' ? '_' : *cmd, f);
}

/* "  --name|--name=|-x) " for an option whose value is being completed. */
static void comp_value_pattern(FILE *f, const struct cli_opt *o)
{
	fputs("\t", f);
	/* An optional argument is only ever --name=VALUE. */
	if (!o->bare)
		fprintf(f, "--%s|", o->name);
	fprintf(f, "--%s=", o->name);
	if (o->short_name && !o->bare)
		fprintf(f, "|-%c", o->short_name);
	fputs(")", f);
}

static void comp_value_action(FILE *f, const struct cli_opt *o)
{
	const char *p;

	switch (comp_kind(o->metavar)) {
	case COMP_FILE:
		fputs(" _mxguard_files ;;\n", f);
		break;
	case COMP_DIR:
		fputs(" _mxguard_dirs ;;\n", f);
		break;
	case COMP_IFACE:
		fputs(" _mxguard_ifaces ;;\n", f);
		break;
	case COMP_KEY:
		fputs(" _mxguard_keys ;;\n", f);
		break;
	case COMP_CHOICES:
		fputs(" _mxguard_words '", f);
		for (p = o->metavar; *p; p++)
			fputc(*p == '|' ? ' ' : *p, f);
		fputs("' ;;\n", f);
		break;
	case COMP_NONE:
		fputs(" ;;\n", f);
		break;
	}
}

struct comp_list {
	FILE *f;
	bool lng;		/* long names, else short ones */
	bool args_only;		/* only those whose value is the next word */
};

static bool comp_name(const struct cli_opt *o, void *arg)
{
	struct comp_list *l = arg;

	if (l->args_only && (!o->metavar || o->bare))
		return false;
	if (l->lng)
		fprintf(l->f, " --%s", o->name);
	else if (o->short_name)
		fprintf(l->f, " -%c", o->short_name);
	return false;
}

static bool comp_value(const struct cli_opt *o, void *arg)
{
	FILE *f = arg;

	if (o->metavar) {
		comp_value_pattern(f, o);
		comp_value_action(f, o);
	}
	return false;
}

/* The per-command function: complete $cur as the value of option $1. */
static void comp_command_fn(FILE *f, const struct cli_command *cmd)
{
	comp_fn_name(f, cmd->name);
	fputs("()\n{\n\tcase $1 in\n", f);
	each_opt(cmd, comp_value, f);
	fputs("\t*) return 1 ;;\n\tesac\n}\n\n", f);
}

/*
 * The case that sets what the command takes: its options, those whose
 * value is the next word, the words its first operand may be ("add CIDR |
 * del CIDR | list": add, del, list), and whether operands are files.
 */
static void comp_command_case(FILE *f, const struct cli_command *cmd)
{
	struct comp_list l = { f, true, false };
	const char *p, *ops = cmd->operands;
	bool first = true;

	fprintf(f, "\t%s)\n\t\topts='", cmd->name);
	each_opt(cmd, comp_name, &l);
	l.lng = false;
	each_opt(cmd, comp_name, &l);
	fputs(" '\n\t\targopts='", f);
	l.lng = true;
	l.args_only = true;
	each_opt(cmd, comp_name, &l);
	l.lng = false;
	each_opt(cmd, comp_name, &l);
	fputs(" '\n\t\tkeywords='", f);
	for (p = ops; p && *p; ) {
		size_t alt = strcspn(p, "|"), word;

		p += strspn(p, " ");
		alt = strcspn(p, "|");
		word = strcspn(p, " |");
		if (word && word <= alt) {
			size_t i;

			for (i = 0; i < word && islower((unsigned char)p[i]); i++)
				;
			if (i == word) {
				fprintf(f, "%s%.*s", first ? "" : " ", (int)word, p);
				first = false;
			}
		}
		p += alt;
		if (*p)
			p++;
	}
	fprintf(f, "'\n\t\toperand='%s'\n\t\tvalue=", ops && comp_kind(ops) == COMP_FILE ?
		"file" : "none");
	comp_fn_name(f, cmd->name);
	fputs(" ;;\n", f);
}

/* The config keys, "key", from the reference the config table prints. */
static int comp_config_keys(FILE *f)
{
	char *buf = NULL, *line, *save = NULL;
	size_t size = 0;
	bool first = true;
	FILE *m;

	m = open_memstream(&buf, &size);
	if (!m)
		return -errno;
	mxg_config_print_reference(m, false);
	if (fclose(m)) {
		free(buf);
		return -ENOMEM;
	}
	/* "# key = default": the key's own line, below its help. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n;

		if (strncmp(line, "# ", 2))
			continue;
		n = strspn(line + 2, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (!n || strncmp(line + 2 + n, " =", 2))
			continue;
		fprintf(f, "%s%.*s", first ? "" : " ", (int)n, line + 2);
		first = false;
	}
	free(buf);
	return 0;
}

int cli_completion_bash(FILE *f)
{
	unsigned int i;
	int ret;

	/* mapfile, not COMPREPLY=($(...)): a name is neither split nor globbed. */
	fputs("# bash completion for mxguard(8), made by `mxguard completion bash` from\n"
	      "# the command and option tables that make `mxguard CMD -h`. Do not edit:\n"
	      "# regenerate it.\n\n"
	      "_mxguard_words()\n{\n"
	      "\tmapfile -t COMPREPLY < <(compgen -W \"$1\" -- \"$cur\")\n}\n\n"
	      "_mxguard_files()\n{\n"
	      "\tcompopt -o filenames 2>/dev/null\n"
	      "\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n}\n\n"
	      "_mxguard_dirs()\n{\n"
	      "\tcompopt -o filenames 2>/dev/null\n"
	      "\tmapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n}\n\n"
	      "_mxguard_ifaces()\n{\n\tlocal d w=\n"
	      "\tfor d in /sys/class/net/*; do\n"
	      "\t\t[[ -e $d ]] && w+=\" ${d##*/}\"\n\tdone\n"
	      "\t_mxguard_words \"$w\"\n}\n\n"
	      "_mxguard_keys()\n{\n"
	      "\tcompopt -o nospace 2>/dev/null\n"
	      "\tmapfile -t COMPREPLY < <(compgen -S = -W '", f);
	ret = comp_config_keys(f);
	if (ret)
		return ret;
	fputs("' -- \"$cur\")\n}\n\n", f);

	for (i = 0; i < cli_n_commands; i++)
		comp_command_fn(f, cli_commands[i]);

	fputs("_mxguard()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev opt cmd w i n=0 skip=0 ended=\n"
	      "\tlocal opts argopts keywords operand value\n"
	      "\tCOMPREPLY=()\n"
	      "\tif ((COMP_CWORD <= 1)); then\n"
	      "\t\t_mxguard_words '", f);
	for (i = 0; i < cli_n_commands; i++)
		if (!cli_commands[i]->hidden)
			fprintf(f, "%s ", cli_commands[i]->name);
	fputs("-h --help --version'\n\t\treturn 0\n\tfi\n"
	      "\tcmd=${COMP_WORDS[1]}\n"
	      "\tprev=${COMP_WORDS[COMP_CWORD - 1]}\n"
	      "\tcase $cmd in\n", f);
	for (i = 0; i < cli_n_commands; i++)
		comp_command_case(f, cli_commands[i]);
	fputs("\t*) return 0 ;;\n\tesac\n\n"
	      "\t# Count the operands before cur: skip the options and their values\n"
	      "\t# (bash splits --name=value into --name, =, value).\n"
	      "\tfor ((i = 2; i < COMP_CWORD; i++)); do\n"
	      "\t\tw=${COMP_WORDS[i]}\n"
	      "\t\tif ((skip > 0)); then\n\t\t\t((skip--))\n\t\t\tcontinue\n\t\tfi\n"
	      "\t\tif [[ -z $ended ]]; then\n"
	      "\t\t\tcase $w in\n"
	      "\t\t\t--) ended=1; continue ;;\n"
	      "\t\t\t=) skip=1; continue ;;\n"
	      "\t\t\t-?*)\n"
	      "\t\t\t\tif [[ ${COMP_WORDS[i + 1]} == = ]]; then\n\t\t\t\t\tskip=2\n"
	      "\t\t\t\telif [[ \" $argopts \" == *\" $w \"* ]]; then\n\t\t\t\t\tskip=1\n"
	      "\t\t\t\tfi\n\t\t\t\tcontinue ;;\n"
	      "\t\t\tesac\n\t\tfi\n"
	      "\t\t((n++))\n\tdone\n\n"
	      "\tif [[ -z $ended ]]; then\n"
	      "\t\t# The option whose value cur is: \"--name value\" or \"--name = value\".\n"
	      "\t\tif [[ $cur == = ]]; then\n\t\t\topt=$prev=\n\t\t\tcur=\n"
	      "\t\telif [[ $prev == = ]] && ((COMP_CWORD > 2)); then\n"
	      "\t\t\topt=${COMP_WORDS[COMP_CWORD - 2]}=\n"
	      "\t\telse\n\t\t\topt=$prev\n\t\tfi\n"
	      "\t\t$value \"$opt\" && return 0\n"
	      "\t\tif [[ $cur == -* ]]; then\n\t\t\t_mxguard_words \"$opts\"\n\t\t\treturn 0\n\t\tfi\n"
	      "\tfi\n"
	      "\tif ((n == 0)) && [[ -n $keywords ]]; then\n"
	      "\t\t_mxguard_words \"$keywords\"\n"
	      "\telif [[ $operand == file ]]; then\n\t\t_mxguard_files\n\tfi\n"
	      "\treturn 0\n}\n\n"
	      "complete -F _mxguard mxguard\n", f);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}

static int cmd_completion(int argc, char **argv)
{
	struct cli_ctx ctx;
	int ret;

	ret = cli_parse(&cli_completion, argc, argv, NULL, &ctx);
	if (ret != CLI_GO)
		return ret;
	if (strcmp(ctx.argv[0], "bash")) {
		cli_err("completion", "no completion for the shell \"%s\" (only bash)",
			ctx.argv[0]);
		return EXIT_USAGE;
	}
	ret = cli_completion_bash(stdout);
	if (ret) {
		cli_err("completion", "cannot write the script: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

const struct cli_command cli_completion = {
	.name = "completion", .fn = cmd_completion,
	.summary = "print the shell completion script",
	.operands = "bash",
	.about = "Print the bash completion script, made from the command and option\n"
		 "tables. make install puts it in /usr/share/bash-completion/completions.",
	.min_operands = 1, .max_operands = 1,
	.missing = "expected the shell (bash)",
	.no_maps = true, .hidden = true,
};
