#include "embed/bert/model_config.h"

#include "json/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *rb_model_path(const char *dir, const char *file) {
    size_t dl = strlen(dir), fl = strlen(file);
    bool slash = dl > 0 && dir[dl - 1] != '/';
    char *p = malloc(dl + slash + fl + 1);
    if (!p) return NULL;
    memcpy(p, dir, dl);
    if (slash) p[dl] = '/';
    memcpy(p + dl + slash, file, fl + 1);
    return p;
}

static int model_err(rb_error *err, const char *path, const char *fmt, const char *detail) {
    return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, fmt, path, detail);
}

/* Parses dir/file into *doc.  A missing optional file leaves *doc NULL. */
static int load_json(const char *dir, const char *file, bool required, rb_json_doc **doc,
                     rb_error *err) {
    *doc = NULL;
    char *path = rb_model_path(dir, file);
    if (!path) return rb_error_nomem(err, RB_STAGE_EMBED, file);
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        int rc = 0;
        if (required)
            rc = model_err(err, path, "%s: %s",
                           "missing (is this a sentence-transformers model directory? "
                           "run scripts/fetch-model.sh for the default model)");
        free(path);
        return rc;
    }
    int rc = rb_json_parse_file(path, NULL, doc, err);
    if (rc == 0 && rb_json_doc_root(*doc)->type != RB_JSON_OBJECT) {
        rb_json_doc_destroy(*doc);
        *doc = NULL;
        rc = model_err(err, path, "%s: %s", "expected a JSON object");
    } else if (rc != 0 && err) {
        /* Keep the parser's message (it names the file) but file it as a model error. */
        err->code = RB_ERR_MODEL;
        err->stage = RB_STAGE_EMBED;
    }
    free(path);
    return rc;
}

/* Reads a positive integer member; `what` names the file for messages. */
static int get_size(const rb_json *obj, const char *key, const char *what, bool required,
                    size_t *out, rb_error *err) {
    const rb_json *v = rb_json_get(obj, key);
    if (!v) {
        if (!required) return 0;
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: \"%s\" is missing", what, key);
    }
    if (v->type != RB_JSON_NUMBER || !v->is_integer || v->integer <= 0)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                            "%s: \"%s\" must be a positive integer", what, key);
    *out = (size_t)v->integer;
    return 0;
}

static int get_bool(const rb_json *obj, const char *key, const char *what, bool *out,
                    rb_error *err) {
    const rb_json *v = rb_json_get(obj, key);
    if (!v || v->type == RB_JSON_NULL) return 0;
    if (v->type != RB_JSON_BOOL)
        return rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: \"%s\" must be true or false",
                            what, key);
    *out = v->boolean;
    return 1;
}

/* A token given as "[CLS]" or as {"content": "[CLS]", ...}. */
static const char *token_string(const rb_json *v) {
    if (!v) return NULL;
    if (v->type == RB_JSON_STRING) return v->str;
    if (v->type == RB_JSON_OBJECT) return rb_json_string(rb_json_get(v, "content"));
    return NULL;
}

static int load_encoder(const char *dir, rb_bert_config *b, rb_error *err) {
    rb_json_doc *doc;
    if (load_json(dir, "config.json", true, &doc, err) < 0) return -1;
    char *path = rb_model_path(dir, "config.json");
    if (!path) {
        rb_json_doc_destroy(doc);
        return rb_error_nomem(err, RB_STAGE_EMBED, "config.json");
    }
    const rb_json *r = rb_json_doc_root(doc);
    int rc = -1;
    const char *type = rb_json_string(rb_json_get(r, "model_type"));
    const char *act = rb_json_string(rb_json_get(r, "hidden_act"));
    const char *pos = rb_json_string(rb_json_get(r, "position_embedding_type"));
    const rb_json *eps = rb_json_get(r, "layer_norm_eps");
    memset(b, 0, sizeof *b);
    b->type_vocab = 2;
    b->pad_id = -1;
    bool roberta = type && (strcmp(type, "roberta") == 0 || strcmp(type, "xlm-roberta") == 0);
    if (type && strcmp(type, "bert") != 0 && !roberta) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: model_type \"%s\" is not supported (bert, roberta, xlm-roberta)", path,
                     type);
        goto out;
    }
    if (roberta) {
        /* RoBERTa numbers positions after the padding index. */
        const rb_json *pad = rb_json_get(r, "pad_token_id");
        if (pad && (pad->type != RB_JSON_NUMBER || !pad->is_integer || pad->integer < 0 ||
                    pad->integer > INT32_MAX / 4)) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: \"pad_token_id\" must be a token id", path);
            goto out;
        }
        b->pad_id = pad ? (int32_t)pad->integer : 1;
        b->type_vocab = 1;
    }
    if (get_size(r, "vocab_size", path, true, &b->vocab_size, err) < 0 ||
        get_size(r, "hidden_size", path, true, &b->hidden, err) < 0 ||
        get_size(r, "num_hidden_layers", path, true, &b->layers, err) < 0 ||
        get_size(r, "num_attention_heads", path, true, &b->heads, err) < 0 ||
        get_size(r, "intermediate_size", path, true, &b->intermediate, err) < 0 ||
        get_size(r, "max_position_embeddings", path, true, &b->max_positions, err) < 0 ||
        get_size(r, "type_vocab_size", path, false, &b->type_vocab, err) < 0)
        goto out;
    if (b->pad_id >= 0 && (size_t)b->pad_id + 2 >= b->max_positions) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: max_position_embeddings %zu leaves no position after pad_token_id %d",
                     path, b->max_positions, (int)b->pad_id);
        goto out;
    }
    if (b->hidden % b->heads != 0) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: hidden_size %zu is not a multiple of num_attention_heads %zu", path,
                     b->hidden, b->heads);
        goto out;
    }
    if (!act || strcmp(act, "gelu") == 0) {
        b->act = RB_ACT_GELU_ERF;
    } else if (strcmp(act, "gelu_new") == 0 || strcmp(act, "gelu_pytorch_tanh") == 0) {
        b->act = RB_ACT_GELU_TANH;
    } else {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: hidden_act \"%s\" is not supported (gelu, gelu_new)", path, act);
        goto out;
    }
    if (pos && strcmp(pos, "absolute") != 0) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: position_embedding_type \"%s\" is not supported (only \"absolute\")",
                     path, pos);
        goto out;
    }
    b->ln_eps = 1e-12f;
    if (eps) {
        if (eps->type != RB_JSON_NUMBER || !(eps->number > 0) || !isfinite(eps->number)) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: layer_norm_eps must be a positive number", path);
            goto out;
        }
        b->ln_eps = (float)eps->number;
    }
    rc = 0;
out:
    free(path);
    rb_json_doc_destroy(doc);
    return rc;
}

static int load_tokenizer_opts(const char *dir, rb_model_config *c, size_t *model_max,
                               rb_error *err) {
    static const char *const keys[5] = {"unk_token", "cls_token", "sep_token", "pad_token",
                                        "mask_token"};
    rb_json_doc *tc = NULL, *sm = NULL;
    rb_tokenizer_opts_default(&c->tok);
    *model_max = 0;
    if (load_json(dir, "tokenizer_config.json", false, &tc, err) < 0 ||
        load_json(dir, "special_tokens_map.json", false, &sm, err) < 0) {
        rb_json_doc_destroy(tc);
        return -1;
    }
    char *path = rb_model_path(dir, "tokenizer_config.json");
    int rc = -1;
    if (!path) {
        rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer_config.json");
        goto out;
    }
    const rb_json *r = rb_json_doc_root(tc); /* NULL when the file is absent */
    const char *cls = rb_json_string(rb_json_get(r, "tokenizer_class"));
    /* With a tokenizer.json the class does not matter: the file says it all. */
    if (!c->tokenizer_json && cls && strcmp(cls, "BertTokenizer") != 0 &&
        strcmp(cls, "BertTokenizerFast") != 0) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: tokenizer_class \"%s\" is not supported without a tokenizer.json "
                     "(vocab.txt is read as a BertTokenizer); save the tokenizer with a fast "
                     "tokenizer (AutoTokenizer.from_pretrained(dir).save_pretrained(dir)) to "
                     "write one",
                     path, cls);
        goto out;
    }
    bool b = false;
    int got;
    if ((got = get_bool(r, "do_lower_case", path, &b, err)) < 0) goto out;
    if (got) c->tok.do_lower_case = b;
    if ((got = get_bool(r, "strip_accents", path, &b, err)) < 0) goto out;
    if (got) c->tok.strip_accents = b;
    if ((got = get_bool(r, "tokenize_chinese_chars", path, &b, err)) < 0) goto out;
    if (got) c->tok.tokenize_chinese_chars = b;
    const rb_json *mm = rb_json_get(r, "model_max_length");
    if (mm && mm->type == RB_JSON_NUMBER && mm->number >= 2 && mm->number < 1e9)
        *model_max = (size_t)mm->number;
    for (size_t i = 0; i < 5; i++) {
        /* special_tokens_map.json wins: transformers applies it last. */
        const char *s = token_string(rb_json_get(rb_json_doc_root(sm), keys[i]));
        if (!s) s = token_string(rb_json_get(r, keys[i]));
        if (!s) continue;
        c->special[i] = strdup(s);
        if (!c->special[i]) {
            rb_error_nomem(err, RB_STAGE_EMBED, "special tokens");
            goto out;
        }
    }
    c->tok.unk_token = c->special[0];
    c->tok.cls_token = c->special[1];
    c->tok.sep_token = c->special[2];
    c->tok.pad_token = c->special[3];
    c->tok.mask_token = c->special[4];
    rc = 0;
out:
    free(path);
    rb_json_doc_destroy(tc);
    rb_json_doc_destroy(sm);
    return rc;
}

/* modules.json -> the Pooling folder and whether Normalize follows. */
static int parse_modules(const char *dir, char **pool_dir, bool *normalize, rb_error *err) {
    char *path = rb_model_path(dir, "modules.json");
    if (!path) return rb_error_nomem(err, RB_STAGE_EMBED, "modules.json");
    *pool_dir = NULL;
    *normalize = false;
    rb_json_doc *doc = NULL;
    int rc = -1;
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        model_err(err, path, "%s: %s",
                  "missing (is this a sentence-transformers model directory? run "
                  "scripts/fetch-model.sh for the default model)");
        goto out;
    }
    if (rb_json_parse_file(path, NULL, &doc, err) < 0) {
        if (err) {
            err->code = RB_ERR_MODEL;
            err->stage = RB_STAGE_EMBED;
        }
        goto out;
    }
    const rb_json *r = rb_json_doc_root(doc);
    if (r->type != RB_JSON_ARRAY) {
        model_err(err, path, "%s: %s", "expected an array of modules");
        goto out;
    }
    bool have_transformer = false;
    for (size_t i = 0; i < r->count; i++) {
        const rb_json *m = &r->items[i];
        const char *type = rb_json_string(rb_json_get(m, "type"));
        const char *mpath = rb_json_string(rb_json_get(m, "path"));
        if (!type) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: module %zu has no \"type\"", path,
                         i);
            goto out;
        }
        const char *dot = strrchr(type, '.');
        const char *base = dot ? dot + 1 : type;
        if (strcmp(base, "Transformer") == 0) {
            have_transformer = true;
        } else if (strcmp(base, "Pooling") == 0) {
            if (*pool_dir || !mpath) {
                rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: %s Pooling module", path,
                             mpath ? "more than one" : "path-less");
                goto out;
            }
            *pool_dir = rb_model_path(dir, mpath);
            if (!*pool_dir) {
                rb_error_nomem(err, RB_STAGE_EMBED, "modules.json");
                goto out;
            }
        } else if (strcmp(base, "Normalize") == 0) {
            *normalize = true;
        } else {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: module type \"%s\" is not supported (Transformer, Pooling, "
                         "Normalize)",
                         path, type);
            goto out;
        }
    }
    if (!have_transformer || !*pool_dir) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: needs a Transformer and a Pooling module", path);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        free(*pool_dir);
        *pool_dir = NULL;
    }
    rb_json_doc_destroy(doc);
    free(path);
    return rc;
}

static int load_pooling(const char *pool_dir, size_t hidden, rb_pooling *pooling, rb_error *err) {
    rb_json_doc *doc;
    if (load_json(pool_dir, "config.json", true, &doc, err) < 0) return -1;
    char *path = rb_model_path(pool_dir, "config.json");
    int rc = -1;
    if (!path) {
        rb_error_nomem(err, RB_STAGE_EMBED, "pooling config");
        goto out;
    }
    const rb_json *r = rb_json_doc_root(doc);
    size_t dim = 0;
    /* sentence-transformers 6 renamed the dimension and made the mode one string. */
    const char *dim_key = rb_json_get(r, "embedding_dimension") ? "embedding_dimension"
                                                                : "word_embedding_dimension";
    if (get_size(r, dim_key, path, true, &dim, err) < 0) goto out;
    if (dim != hidden) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: word_embedding_dimension %zu does not match config.json hidden_size %zu",
                     path, dim, hidden);
        goto out;
    }
    static const struct {
        const char *key;
        int mode; /* -1: not supported */
    } modes[] = {{"pooling_mode_mean_tokens", RB_POOL_MEAN},
                 {"pooling_mode_cls_token", RB_POOL_CLS},
                 {"pooling_mode_max_tokens", RB_POOL_MAX},
                 {"pooling_mode_mean_sqrt_len_tokens", RB_POOL_MEAN_SQRT_LEN},
                 {"pooling_mode_weightedmean_tokens", RB_POOL_WEIGHTED_MEAN},
                 {"pooling_mode_lasttoken", -1}};
    static const char *const names[] = {"mean",         "cls",      "max", "mean_sqrt_len_tokens",
                                        "weightedmean", "lasttoken"};
    int chosen = -1;
    size_t on = 0;
    const rb_json *mode = rb_json_get(r, "pooling_mode");
    if (mode) {
        size_t i = 0;
        while (i < 6 && !(mode->type == RB_JSON_STRING && strcmp(mode->str, names[i]) == 0)) i++;
        if (i == 6) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: \"pooling_mode\" must be one of mean, cls, max, "
                         "mean_sqrt_len_tokens, weightedmean (a list of modes, concatenated, "
                         "is not supported)",
                         path);
            goto out;
        }
        if (modes[i].mode < 0) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: pooling_mode \"%s\" is not supported (it is meant for decoder "
                         "models, which ragbatch does not run)",
                         path, names[i]);
            goto out;
        }
        *pooling = (rb_pooling)modes[i].mode;
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        bool b = false;
        if (get_bool(r, modes[i].key, path, &b, err) < 0) goto out;
        if (!b) continue;
        if (modes[i].mode < 0) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: %s is not supported (last-token pooling is meant for decoder "
                         "models, which ragbatch does not run)",
                         path, modes[i].key);
            goto out;
        }
        chosen = modes[i].mode;
        on++;
    }
    if (on != 1) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: exactly one pooling mode must be true (found %zu)", path, on);
        goto out;
    }
    *pooling = (rb_pooling)chosen;
    rc = 0;
out:
    free(path);
    rb_json_doc_destroy(doc);
    return rc;
}

static int load_sbert(const char *dir, rb_model_config *c, size_t model_max, rb_error *err) {
    rb_json_doc *doc;
    if (load_json(dir, "sentence_bert_config.json", false, &doc, err) < 0) return -1;
    char *path = rb_model_path(dir, "sentence_bert_config.json");
    int rc = -1;
    if (!path) {
        rb_error_nomem(err, RB_STAGE_EMBED, "sentence_bert_config.json");
        goto out;
    }
    size_t max = 0;
    if (doc) {
        const rb_json *r = rb_json_doc_root(doc);
        if (get_size(r, "max_seq_length", path, false, &max, err) < 0) goto out;
        bool b = false;
        if (get_bool(r, "do_lower_case", path, &b, err) < 0) goto out;
        c->tok.pre_lowercase = b;
    }
    size_t limit = rb_bert_config_max_seq(&c->bert);
    if (max == 0) {
        max = limit;
        if (model_max && model_max < max) max = model_max;
    }
    if (max > limit || max < 2) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: max_seq_length %zu must be between 2 and %zu (config.json "
                     "max_position_embeddings %zu%s)",
                     path, max, limit, c->bert.max_positions,
                     c->bert.pad_id >= 0 ? ", less pad_token_id + 1" : "");
        goto out;
    }
    c->max_seq_length = max;
    rc = 0;
out:
    free(path);
    rb_json_doc_destroy(doc);
    return rc;
}

void rb_model_config_free(rb_model_config *c) {
    if (!c) return;
    free(c->name);
    for (size_t i = 0; i < 5; i++) free(c->special[i]);
    memset(c, 0, sizeof *c);
}

size_t rb_bert_config_max_seq(const rb_bert_config *b) {
    size_t off = b->pad_id >= 0 ? (size_t)b->pad_id + 1 : 0;
    return b->max_positions > off ? b->max_positions - off : 0;
}

int rb_model_config_load(const char *dir, rb_model_config *c, rb_error *err) {
    memset(c, 0, sizeof *c);
    char *pool_dir = NULL;
    size_t model_max = 0;
    char *tj = rb_model_path(dir, "tokenizer.json");
    if (!tj) return rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer.json");
    c->tokenizer_json = access(tj, F_OK) == 0;
    free(tj);
    if (load_encoder(dir, &c->bert, err) < 0 || load_tokenizer_opts(dir, c, &model_max, err) < 0 ||
        parse_modules(dir, &pool_dir, &c->normalize, err) < 0 ||
        load_pooling(pool_dir, c->bert.hidden, &c->pooling, err) < 0 ||
        load_sbert(dir, c, model_max, err) < 0)
        goto fail;
    free(pool_dir);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    const char *base = dir;
    for (size_t i = 0; i < dl; i++)
        if (dir[i] == '/' && i + 1 < dl) base = dir + i + 1;
    c->name = strndup(base, (size_t)(dir + dl - base));
    if (!c->name) {
        rb_error_nomem(err, RB_STAGE_EMBED, "model name");
        goto fail;
    }
    return 0;
fail:
    free(pool_dir);
    rb_model_config_free(c);
    return -1;
}

rb_tokenizer *rb_model_tokenizer_open(const char *dir, const rb_model_config *c, rb_error *err) {
    const char *file = c->tokenizer_json ? "tokenizer.json" : "vocab.txt";
    char *path = rb_model_path(dir, file);
    if (!path) {
        rb_error_nomem(err, RB_STAGE_EMBED, file);
        return NULL;
    }
    rb_tokenizer *t = NULL;
    if (c->tokenizer_json) {
        t = rb_tokenizer_new_from_json(path, c->tok.pre_lowercase, err);
    } else if (access(path, F_OK) != 0 && errno == ENOENT) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: missing, and so is tokenizer.json: the model directory has no "
                     "tokenizer (run scripts/fetch-model.sh for the default model)",
                     path);
    } else {
        t = rb_tokenizer_new_from_file(path, &c->tok, err);
    }
    /* Fewer tokens than embedding rows is harmless (some models pad the
     * matrix); more would index past it. */
    if (t && rb_tokenizer_vocab_size(t) > c->bert.vocab_size) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: %zu tokens but config.json vocab_size is only %zu", path,
                     rb_tokenizer_vocab_size(t), c->bert.vocab_size);
        rb_tokenizer_destroy(t);
        t = NULL;
    }
    free(path);
    return t;
}

rb_tokenizer *rb_model_tokenizer_load(const char *dir, size_t *max_seq_length, rb_error *err) {
    rb_model_config c;
    if (rb_model_config_load(dir, &c, err) < 0) return NULL;
    rb_tokenizer *t = rb_model_tokenizer_open(dir, &c, err);
    if (t && max_seq_length) *max_seq_length = c.max_seq_length;
    rb_model_config_free(&c);
    return t;
}
