/*
 * tokenizer_json.c -- rb_tokenizer_new_from_json (tokenizer.h): builds the
 * pipeline of tokenizer_impl.h from a Hugging Face tokenizer.json.
 */
#include "embed/bert/tokenizer.h"

#include "embed/bert/tokenizer_impl.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

typedef struct loader {
    const char *path;
    rb_error *err;
    rb_tokenizer *t;
} loader;

static int bad(loader *l, const char *what, const char *detail) {
    return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: %s%s", l->path, what,
                        detail ? detail : "");
}

static int nomem(loader *l) { return rb_error_nomem(l->err, RB_STAGE_EMBED, l->path); }

/* A boolean member, `def` when absent or null; -1 (and the error) when it
 * is something else. */
static int get_flag(loader *l, const rb_json *obj, const char *key, bool def, bool *out) {
    const rb_json *v = rb_json_get(obj, key);
    *out = def;
    if (!v || v->type == RB_JSON_NULL) return 0;
    if (v->type != RB_JSON_BOOL)
        return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: \"%s\" (line %d) must be true or false", l->path, key, v->line);
    *out = v->boolean;
    return 0;
}

static int to_cps(loader *l, const char *s, int32_t **cps, size_t *n) {
    if (rb_tok_decode(s, strlen(s), cps, n) < 0) return nomem(l);
    return 0;
}

/* ---- normalizers --------------------------------------------------------- */

/* A Replace pattern: {"String": "..."} or {"Regex": "..."}, where the
 * regular expressions understood are a literal without metacharacters and
 * one (possibly escaped) character followed by +, {n,} or {n}... */
static int replace_pattern(loader *l, const rb_json *pat, rb_tok_norm *nm) {
    const char *lit = rb_json_string(rb_json_get(pat, "String"));
    const char *re = rb_json_string(rb_json_get(pat, "Regex"));
    if (lit) return to_cps(l, lit, &nm->pat, &nm->pat_len);
    if (!re) return bad(l, "normalizer Replace has no \"String\" or \"Regex\" pattern", NULL);
    if (!strpbrk(re, "\\^$.|?*+()[]{}")) return to_cps(l, re, &nm->pat, &nm->pat_len);
    /* One character, then a quantifier. */
    const char *q = re;
    char one[5] = {0};
    if (*q == '\\' && q[1] && strchr("\\^$.|?*+()[]{} ", q[1])) {
        one[0] = q[1];
        q += 2;
    } else if (*q && !strchr("\\^$.|?*+()[]{}", *q)) {
        size_t k = 1;
        while (((unsigned char)q[k] & 0xC0) == 0x80 && k < 4) k++;
        memcpy(one, q, k);
        q += k;
    } else {
        q = NULL;
    }
    size_t min = 0;
    if (q && strcmp(q, "+") == 0) {
        min = 1;
    } else if (q && q[0] == '{') {
        char *end = NULL;
        unsigned long v = strtoul(q + 1, &end, 10);
        if (end != q + 1 && strcmp(end, ",}") == 0 && v > 0 && v < 1000) min = v;
    }
    if (!min)
        return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: normalizer Replace pattern /%s/ is not supported (a literal, or "
                            "one character followed by + or {n,})",
                            l->path, re);
    nm->min_run = min;
    return to_cps(l, one, &nm->pat, &nm->pat_len);
}

static int add_normalizer(loader *l, const rb_json *n, int depth) {
    if (!n || n->type == RB_JSON_NULL) return 0;
    const char *type = rb_json_string(rb_json_get(n, "type"));
    if (!type || depth > 8) return bad(l, "a normalizer has no \"type\"", NULL);
    rb_tok_norm nm;
    memset(&nm, 0, sizeof nm);
    if (strcmp(type, "Sequence") == 0) {
        const rb_json *list = rb_json_get(n, "normalizers");
        if (!list || list->type != RB_JSON_ARRAY)
            return bad(l, "normalizer Sequence has no \"normalizers\" array", NULL);
        for (size_t i = 0; i < list->count; i++)
            if (add_normalizer(l, &list->items[i], depth + 1) < 0) return -1;
        return 0;
    }
    if (strcmp(type, "BertNormalizer") == 0) {
        nm.kind = RB_NORM_BERT;
        bool strip;
        const rb_json *sa = rb_json_get(n, "strip_accents");
        if (get_flag(l, n, "clean_text", true, &nm.clean) < 0 ||
            get_flag(l, n, "handle_chinese_chars", true, &nm.chinese) < 0 ||
            get_flag(l, n, "lowercase", true, &nm.lower) < 0 ||
            get_flag(l, n, "strip_accents", false, &strip) < 0)
            return -1;
        /* strip_accents null: follow lowercase, as BertNormalizer does. */
        nm.strip_accents = (!sa || sa->type == RB_JSON_NULL) ? nm.lower : strip;
        l->t->chinese = nm.chinese;
    } else if (strcmp(type, "NFC") == 0) {
        nm.kind = RB_NORM_NFC;
    } else if (strcmp(type, "NFD") == 0) {
        nm.kind = RB_NORM_NFD;
    } else if (strcmp(type, "NFKC") == 0) {
        nm.kind = RB_NORM_NFKC;
    } else if (strcmp(type, "NFKD") == 0) {
        nm.kind = RB_NORM_NFKD;
    } else if (strcmp(type, "Lowercase") == 0) {
        nm.kind = RB_NORM_LOWERCASE;
    } else if (strcmp(type, "StripAccents") == 0) {
        nm.kind = RB_NORM_STRIP_ACCENTS;
    } else if (strcmp(type, "Strip") == 0) {
        nm.kind = RB_NORM_STRIP;
        if (get_flag(l, n, "strip_left", true, &nm.left) < 0 ||
            get_flag(l, n, "strip_right", true, &nm.right) < 0)
            return -1;
    } else if (strcmp(type, "Replace") == 0) {
        nm.kind = RB_NORM_REPLACE;
        const char *with = rb_json_string(rb_json_get(n, "content"));
        if (!with) return bad(l, "normalizer Replace has no \"content\"", NULL);
        if (replace_pattern(l, rb_json_get(n, "pattern"), &nm) < 0 ||
            to_cps(l, with, &nm.with, &nm.with_len) < 0) {
            free(nm.pat);
            free(nm.with);
            return -1;
        }
        if (nm.pat_len == 0) {
            free(nm.pat);
            free(nm.with);
            return bad(l, "normalizer Replace has an empty pattern", NULL);
        }
    } else if (strcmp(type, "Prepend") == 0) {
        nm.kind = RB_NORM_PREPEND;
        const char *with = rb_json_string(rb_json_get(n, "prepend"));
        if (!with) return bad(l, "normalizer Prepend has no \"prepend\"", NULL);
        if (to_cps(l, with, &nm.with, &nm.with_len) < 0) return -1;
    } else if (strcmp(type, "Precompiled") == 0) {
        const rb_json *cm = rb_json_get(n, "precompiled_charsmap");
        if (!cm || cm->type == RB_JSON_NULL || (cm->type == RB_JSON_STRING && cm->str_len == 0))
            return 0; /* an empty charsmap changes nothing */
        if (cm->type != RB_JSON_STRING)
            return bad(l, "normalizer Precompiled: \"precompiled_charsmap\" must be a string",
                       NULL);
        nm.kind = RB_NORM_PRECOMPILED;
        nm.charsmap = rb_charsmap_from_base64(cm->str, cm->str_len, l->path, l->err);
        if (!nm.charsmap) return -1;
    } else {
        return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: normalizer \"%s\" is not supported (BertNormalizer, NFC, NFD, "
                            "NFKC, NFKD, Lowercase, StripAccents, Strip, Replace, Prepend, "
                            "Precompiled, Sequence)",
                            l->path, type);
    }
    if (rb_tok_push_norm(l->t, &nm) < 0) {
        free(nm.pat);
        free(nm.with);
        rb_charsmap_destroy(nm.charsmap);
        return nomem(l);
    }
    return 0;
}

/* ---- pre-tokenizers ------------------------------------------------------ */

static int add_pre(loader *l, const rb_json *p, int depth) {
    if (!p || p->type == RB_JSON_NULL) return 0;
    const char *type = rb_json_string(rb_json_get(p, "type"));
    if (!type || depth > 8) return bad(l, "a pre_tokenizer has no \"type\"", NULL);
    rb_tok_pre pre;
    memset(&pre, 0, sizeof pre);
    if (strcmp(type, "Sequence") == 0) {
        const rb_json *list = rb_json_get(p, "pretokenizers");
        if (!list || list->type != RB_JSON_ARRAY)
            return bad(l, "pre_tokenizer Sequence has no \"pretokenizers\" array", NULL);
        for (size_t i = 0; i < list->count; i++)
            if (add_pre(l, &list->items[i], depth + 1) < 0) return -1;
        return 0;
    }
    if (strcmp(type, "BertPreTokenizer") == 0) {
        pre.kind = RB_PRE_BERT;
        l->t->bert_classes = true;
    } else if (strcmp(type, "Whitespace") == 0) {
        pre.kind = RB_PRE_WHITESPACE;
    } else if (strcmp(type, "WhitespaceSplit") == 0) {
        pre.kind = RB_PRE_WHITESPACE_SPLIT;
    } else if (strcmp(type, "Metaspace") == 0) {
        pre.kind = RB_PRE_METASPACE;
        const char *rep = rb_json_string(rb_json_get(p, "replacement"));
        int32_t *cps = NULL;
        size_t n = 0;
        if (!rep) rep = "\xe2\x96\x81"; /* U+2581, the default */
        if (to_cps(l, rep, &cps, &n) < 0) return -1;
        pre.replacement = n == 1 ? cps[0] : -1;
        free(cps);
        if (pre.replacement < 0)
            return bad(l, "Metaspace replacement must be one character", NULL);
        if (get_flag(l, p, "split", true, &pre.split) < 0) return -1;
        const char *scheme = rb_json_string(rb_json_get(p, "prepend_scheme"));
        bool add_prefix;
        if (get_flag(l, p, "add_prefix_space", true, &add_prefix) < 0) return -1;
        if (!scheme) {
            pre.prepend = add_prefix ? RB_PREPEND_ALWAYS : RB_PREPEND_NEVER; /* older files */
        } else if (strcmp(scheme, "always") == 0) {
            pre.prepend = RB_PREPEND_ALWAYS;
        } else if (strcmp(scheme, "first") == 0) {
            pre.prepend = RB_PREPEND_FIRST;
        } else if (strcmp(scheme, "never") == 0) {
            pre.prepend = RB_PREPEND_NEVER;
        } else {
            return bad(l, "Metaspace prepend_scheme must be always, first or never", NULL);
        }
    } else {
        return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: pre_tokenizer \"%s\" is not supported (BertPreTokenizer, "
                            "Whitespace, WhitespaceSplit, Metaspace, Sequence)",
                            l->path, type);
    }
    if (rb_tok_push_pre(l->t, &pre) < 0) return nomem(l);
    return 0;
}

/* ---- post-processors ----------------------------------------------------- */

static int around_push(loader *l, bool head, int64_t id) {
    rb_tokenizer *t = l->t;
    size_t *n = head ? &t->n_head : &t->n_tail;
    if (*n >= RB_TOK_MAX_AROUND)
        return bad(l, "post_processor adds more special tokens than ragbatch allows (4 a side)",
                   NULL);
    if (id < 0 || (uint64_t)id >= t->n)
        return bad(l, "post_processor names a token id outside the vocabulary", NULL);
    (head ? t->head : t->tail)[(*n)++] = (int32_t)id;
    return 0;
}

/* ["[CLS]", 101] */
static int pair_id(loader *l, const rb_json *p, int64_t *id) {
    if (!p || p->type != RB_JSON_ARRAY || p->count != 2 || p->items[1].type != RB_JSON_NUMBER ||
        !p->items[1].is_integer)
        return bad(l, "post_processor: \"cls\" and \"sep\" must be [token, id]", NULL);
    *id = p->items[1].integer;
    return 0;
}

static int template_single(loader *l, const rb_json *p) {
    const rb_json *single = rb_json_get(p, "single");
    const rb_json *specials = rb_json_get(p, "special_tokens");
    if (!single || single->type != RB_JSON_ARRAY)
        return bad(l, "TemplateProcessing has no \"single\" template", NULL);
    bool seen_a = false;
    for (size_t i = 0; i < single->count; i++) {
        const rb_json *it = &single->items[i];
        const rb_json *seq = rb_json_get(it, "Sequence"), *sp = rb_json_get(it, "SpecialToken");
        if (seq) {
            if (seen_a) return bad(l, "TemplateProcessing: \"single\" holds $A twice", NULL);
            seen_a = true;
            continue;
        }
        const char *name = rb_json_string(rb_json_get(sp, "id"));
        const rb_json *ids = rb_json_get(rb_json_get(specials, name ? name : ""), "ids");
        if (!name || !ids || ids->type != RB_JSON_ARRAY)
            return bad(l,
                       "TemplateProcessing: a special token of \"single\" is not in "
                       "\"special_tokens\"",
                       NULL);
        for (size_t k = 0; k < ids->count; k++) {
            if (!ids->items[k].is_integer)
                return bad(l, "TemplateProcessing: special token ids must be integers", NULL);
            if (around_push(l, !seen_a, ids->items[k].integer) < 0) return -1;
        }
    }
    if (!seen_a) return bad(l, "TemplateProcessing: \"single\" has no $A", NULL);
    return 0;
}

static int add_post(loader *l, const rb_json *p, int depth, bool *done) {
    if (!p || p->type == RB_JSON_NULL) return 0;
    const char *type = rb_json_string(rb_json_get(p, "type"));
    if (!type || depth > 8) return bad(l, "the post_processor has no \"type\"", NULL);
    if (strcmp(type, "Sequence") == 0) {
        const rb_json *list = rb_json_get(p, "processors");
        if (!list || list->type != RB_JSON_ARRAY)
            return bad(l, "post_processor Sequence has no \"processors\" array", NULL);
        for (size_t i = 0; i < list->count; i++)
            if (add_post(l, &list->items[i], depth + 1, done) < 0) return -1;
        return 0;
    }
    if (strcmp(type, "ByteLevel") == 0) return 0; /* offsets only, never ids */
    if (*done) return bad(l, "more than one post_processor adds special tokens", NULL);
    *done = true;
    if (strcmp(type, "TemplateProcessing") == 0) return template_single(l, p);
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        int64_t cls, sep;
        if (pair_id(l, rb_json_get(p, "cls"), &cls) < 0 ||
            pair_id(l, rb_json_get(p, "sep"), &sep) < 0)
            return -1;
        return around_push(l, true, cls) < 0 || around_push(l, false, sep) < 0 ? -1 : 0;
    }
    return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                        "%s: post_processor \"%s\" is not supported (TemplateProcessing, "
                        "BertProcessing, RobertaProcessing, Sequence)",
                        l->path, type);
}

/* ---- the model ----------------------------------------------------------- */

/* The number of ids: one past the largest of the model's and the added
 * tokens'. */
static int count_ids(loader *l, const rb_json *vocab, bool unigram, const rb_json *added,
                     size_t *n) {
    size_t max = unigram ? vocab->count : 0;
    if (!unigram)
        for (size_t i = 0; i < vocab->count; i++) {
            const rb_json *v = vocab->members[i].value;
            if (v->type != RB_JSON_NUMBER || !v->is_integer || v->integer < 0 ||
                v->integer >= INT32_MAX / 4)
                return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                                    "%s: model vocab: the id of \"%s\" (line %d) is not a valid "
                                    "token id",
                                    l->path, vocab->members[i].key, v->line);
            if ((size_t)v->integer + 1 > max) max = (size_t)v->integer + 1;
        }
    for (size_t i = 0; added && i < added->count; i++) {
        const rb_json *id = rb_json_get(&added->items[i], "id");
        if (!id || !id->is_integer || id->integer < 0 || id->integer >= INT32_MAX / 4)
            return bad(l, "added_tokens: an entry has no valid \"id\"", NULL);
        if ((size_t)id->integer + 1 > max) max = (size_t)id->integer + 1;
    }
    *n = max;
    return 0;
}

static int build_model(loader *l, const rb_json *model, const rb_json *added) {
    const char *type = rb_json_string(rb_json_get(model, "type"));
    const rb_json *vocab = rb_json_get(model, "vocab");
    if (!type) return bad(l, "\"model\" has no \"type\"", NULL);
    bool unigram = strcmp(type, "Unigram") == 0;
    if (!unigram && strcmp(type, "WordPiece") != 0)
        return rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: model type \"%s\" is not supported (WordPiece, Unigram): "
                            "byte-level BPE tokenizers (GPT-2, RoBERTa-base) are not read yet",
                            l->path, type);
    if (!vocab || vocab->type != (unigram ? RB_JSON_ARRAY : RB_JSON_OBJECT))
        return bad(l,
                   unigram ? "Unigram model: \"vocab\" must be an array of [piece, score]"
                           : "WordPiece model: \"vocab\" must be an object of token: id",
                   NULL);
    size_t n = 0;
    if (count_ids(l, vocab, unigram, added, &n) < 0) return -1;
    const char **toks = calloc(n ? n : 1, sizeof *toks);
    double *scores = unigram ? calloc(n ? n : 1, sizeof *scores) : NULL;
    int rc = -1;
    if (!toks || (unigram && !scores)) {
        nomem(l);
        goto out;
    }
    for (size_t i = 0; i < n; i++) toks[i] = "";
    for (size_t i = 0; i < vocab->count; i++) {
        const char *tok;
        size_t id;
        if (unigram) {
            const rb_json *e = &vocab->items[i];
            if (e->type != RB_JSON_ARRAY || e->count != 2 || e->items[0].type != RB_JSON_STRING ||
                e->items[1].type != RB_JSON_NUMBER) {
                rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                             "%s: Unigram vocab entry %zu (line %d) is not [piece, score]",
                             l->path, i, e->line);
                goto out;
            }
            tok = e->items[0].str;
            id = i;
            scores[i] = e->items[1].number;
        } else {
            tok = vocab->members[i].key;
            id = (size_t)vocab->members[i].value->integer;
        }
        if (toks[id][0]) {
            rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: model vocab: id %zu is given to both \"%s\" and \"%s\"", l->path, id,
                         toks[id], tok);
            goto out;
        }
        toks[id] = tok;
    }
    l->t = rb_tok_alloc(toks, n, l->path, l->err);
    if (!l->t) goto out;
    rb_tokenizer *t = l->t;
    if (unigram) {
        const rb_json *unk = rb_json_get(model, "unk_id");
        bool fallback;
        if (get_flag(l, model, "byte_fallback", false, &fallback) < 0) goto out;
        if (!unk || !unk->is_integer || unk->integer < 0 || (size_t)unk->integer >= n) {
            bad(l, "Unigram model: \"unk_id\" must be the id of the unknown piece", NULL);
            goto out;
        }
        if (rb_tok_set_unigram(t, scores, (int32_t)unk->integer, fallback) < 0) {
            nomem(l);
            goto out;
        }
        t->max_chars = 100; /* where the chunker may cut a run without spaces */
    } else {
        const char *unk = rb_json_string(rb_json_get(model, "unk_token"));
        const char *prefix = rb_json_string(rb_json_get(model, "continuing_subword_prefix"));
        const rb_json *mc = rb_json_get(model, "max_input_chars_per_word");
        t->unk_id = unk ? rb_tokenizer_token_id(t, unk) : -1;
        if (t->unk_id < 0) {
            rb_error_set(l->err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: WordPiece unk_token \"%s\" is not in the vocabulary", l->path,
                         unk ? unk : "(missing)");
            goto out;
        }
        if (prefix) {
            size_t pl = strlen(prefix);
            if (pl >= sizeof t->prefix) {
                bad(l, "WordPiece continuing_subword_prefix is longer than 15 bytes", NULL);
                goto out;
            }
            memcpy(t->prefix, prefix, pl + 1);
            t->prefix_len = pl;
        }
        if (mc && mc->is_integer && mc->integer > 0) t->max_chars = (size_t)mc->integer;
    }
    rc = 0;
out:
    free(toks);
    free(scores);
    return rc;
}

static int add_added(loader *l, const rb_json *added) {
    for (size_t i = 0; added && i < added->count; i++) {
        const rb_json *a = &added->items[i];
        const char *content = rb_json_string(rb_json_get(a, "content"));
        bool lstrip, rstrip, single;
        if (!content) return bad(l, "added_tokens: an entry has no \"content\"", NULL);
        if (get_flag(l, a, "lstrip", false, &lstrip) < 0 ||
            get_flag(l, a, "rstrip", false, &rstrip) < 0 ||
            get_flag(l, a, "single_word", false, &single) < 0)
            return -1;
        if (rb_tok_add_added(l->t, content, (int32_t)rb_json_get(a, "id")->integer, lstrip, rstrip,
                             single) < 0)
            return nomem(l);
    }
    return 0;
}

rb_tokenizer *rb_tokenizer_new_from_json(const char *path, bool pre_lowercase, rb_error *err) {
    rb_json_doc *doc = NULL;
    loader l = {path, err, NULL};
    if (rb_json_parse_file(path, NULL, &doc, err) < 0) {
        if (err) {
            err->code = RB_ERR_MODEL;
            err->stage = RB_STAGE_EMBED;
        }
        return NULL;
    }
    const rb_json *r = rb_json_doc_root(doc);
    const rb_json *added = rb_json_get(r, "added_tokens");
    bool done = false;
    if (r->type != RB_JSON_OBJECT || !rb_json_get(r, "model")) {
        bad(&l, "expected a tokenizers object with a \"model\"", NULL);
        goto fail;
    }
    if (added && added->type != RB_JSON_ARRAY) {
        bad(&l, "\"added_tokens\" must be an array", NULL);
        goto fail;
    }
    if (build_model(&l, rb_json_get(r, "model"), added) < 0 || add_added(&l, added) < 0 ||
        add_normalizer(&l, rb_json_get(r, "normalizer"), 0) < 0 ||
        add_pre(&l, rb_json_get(r, "pre_tokenizer"), 0) < 0 ||
        add_post(&l, rb_json_get(r, "post_processor"), 0, &done) < 0)
        goto fail;
    l.t->pre_lower = pre_lowercase;
    rb_json_doc_destroy(doc);
    return l.t;
fail:
    rb_tokenizer_destroy(l.t);
    rb_json_doc_destroy(doc);
    return NULL;
}
