/*
 * http_embed.c -- the HTTP embedding providers (openai, tei) behind
 * rb_embedder: transport, batching, retries and limits; the wire formats
 * are in openai.c and tei.c.
 *
 * A call cuts its texts into requests of at most batch_size texts and
 * batch_max_tokens approximate tokens (bytes / 4 + 1 per text; a longer
 * text goes alone) and keeps up to `concurrency` of them in flight on one
 * libcurl multi handle, each on its own easy handle (created once, so
 * connections are reused).  Before a request starts, the rate limiter
 * (ratelimit.h) must allow it.  When a request ends:
 *   - 2xx: the answer is parsed (JSON module) and checked (count, order by
 *     index, size, finite numbers); a bad answer fails the call at once,
 *     since asking again would get the same answer.  Once the vector size
 *     is known, the protocol's fast reader (http_fast.c) goes first and
 *     fills the rows straight from the bytes; it only accepts well-formed
 *     answers and leaves every other one to that path;
 *   - 413, or a 400/422 whose message says the request is too large: the
 *     request is split in halves (a single text that is still too large
 *     fails the call), so an oversized batch is never retried whole;
 *   - 429, 5xx, a timeout or a lost connection: retried after the
 *     Retry-After the server asked for (seconds or HTTP-date), else after
 *     backoff_ms * 2^(attempt-1) (at most backoff_max_ms) with jitter
 *     (half fixed, half random: common/backoff.h), so parallel requests
 *     do not come back together; after `retries` retries the call fails;
 *   - anything else (401, 404, 400 ...) fails the call without retrying.
 * A failed call stops its other requests and returns RB_ERR_EMBED (stage
 * embed, not retriable: the retries are spent) naming the provider, the URL
 * without credentials or query, the HTTP status and the provider's own
 * message; the API key is cut out of any message that would quote it.
 *
 * One call at a time (rb_embedder's contract); all state is in the impl.
 */
#include "common/backoff.h"
#include "common/buf.h"
#include "common/clock.h"
#include "embed/embedder.h"
#include "embed/http/http_proto.h"
#include "embed/http/ratelimit.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER_BYTES ((size_t)512 << 20)
#define MAX_RETRY_AFTER_S 3600

typedef struct he_job {
    size_t start, count, tokens;
    int attempt;       /* retries done so far */
    double not_before; /* monotonic seconds */
} he_job;

typedef struct he_xfer {
    CURL *h;
    bool busy;
    he_job job;
    rb_buf body, answer;
    bool too_big;
} he_xfer;

typedef struct http_impl {
    const rb_http_proto *proto;
    char *url;      /* the endpoint */
    char *safe_url; /* the endpoint without credentials or query, for messages */
    char *model, *key;
    struct curl_slist *headers;
    CURLM *multi;
    he_xfer *xfers;
    int concurrency;
    size_t dim, dims_sent;
    long timeout_ms, backoff_ms, backoff_max_ms;
    int retries;
    size_t batch_size, batch_max_tokens;
    bool tls_verify;
    char *ca_file;
    rb_ratelimit rl;
    rb_prng rng; /* retry jitter */
    he_job *queue;
    size_t nqueue, capqueue;
    const atomic_int *cancel; /* rb_embedder_set_cancel; NULL: none */
} http_impl;

static size_t approx_tokens(const char *text) { return strlen(text) / 4 + 1; }

static int queue_push(http_impl *im, he_job job) {
    if (im->nqueue == im->capqueue) {
        size_t cap = im->capqueue ? im->capqueue * 2 : 16;
        he_job *grown = realloc(im->queue, cap * sizeof *grown);
        if (!grown) return -1;
        im->queue = grown;
        im->capqueue = cap;
    }
    im->queue[im->nqueue++] = job;
    return 0;
}

/* Copies `s` with every occurrence of the API key replaced by "***". */
static void redact(const http_impl *im, char *s) {
    if (!im->key || !im->key[0]) return;
    size_t klen = strlen(im->key);
    char *p;
    while ((p = strstr(s, im->key)) != NULL) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + klen, strlen(p + klen) + 1);
    }
}

/* Fails the call: message "openai http://h/v1/embeddings: WHAT". */
static int fail(http_impl *im, rb_error *err, rb_code code, const char *fmt, const char *what,
                const char *detail) {
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_printf(&b, "%s %s: ", im->proto->name, im->safe_url);
    rb_buf_printf(&b, fmt, what, detail);
    if (err) {
        rb_error_set(err, code, RB_STAGE_EMBED, "%s", b.data ? b.data : "embedding failed");
        redact(im, err->msg);
    }
    rb_buf_free(&b);
    return -1;
}

static size_t on_answer(char *data, size_t size, size_t nmemb, void *user) {
    he_xfer *x = user;
    size_t n = size * nmemb;
    if (x->answer.len + n > MAX_ANSWER_BYTES) {
        x->too_big = true;
        return 0; /* aborts the transfer */
    }
    return rb_buf_append(&x->answer, data, n) == 0 ? n : 0;
}

static int xfer_start(http_impl *im, he_xfer *x, const char *const *texts, he_job job,
                      rb_error *err) {
    rb_buf_reset(&x->body);
    rb_buf_reset(&x->answer);
    x->too_big = false;
    if (im->proto->body(im->model, im->dims_sent, texts + job.start, job.count, &x->body) != 0)
        return rb_error_nomem(err, RB_STAGE_EMBED, "request body");
    CURL *h = x->h;
    curl_easy_setopt(h, CURLOPT_URL, im->url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, im->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, im->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* vectors compress well */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, im->tls_verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, im->tls_verify ? 2L : 0L);
    if (im->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, im->ca_file);
    if (curl_multi_add_handle(im->multi, h) != CURLM_OK)
        return rb_error_set(err, RB_ERR_HTTP, RB_STAGE_EMBED, "curl_multi_add_handle failed");
    x->job = job;
    x->busy = true;
    return 0;
}

static void xfer_stop(http_impl *im, he_xfer *x) {
    if (!x->busy) return;
    curl_multi_remove_handle(im->multi, x->h);
    x->busy = false;
}

static bool curl_retriable(CURLcode rc) {
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return true;
    default: return false;
    }
}

/* Schedules a retry of `job` or fails the call when retries are spent.
 * `why` describes the last failure. */
static int retry_or_fail(http_impl *im, he_job job, double retry_after, const char *why,
                         rb_error *err) {
    if (job.attempt >= im->retries) {
        char attempts[32];
        snprintf(attempts, sizeof attempts, "%d", job.attempt + 1);
        return fail(im, err, RB_ERR_EMBED, "%s attempts failed, the last with %s", attempts, why);
    }
    job.attempt++;
    double wait;
    if (retry_after >= 0) {
        wait = retry_after;
    } else {
        wait =
            (double)rb_backoff_wait_ms(im->backoff_ms, im->backoff_max_ms, job.attempt, &im->rng) /
            1e3;
    }
    job.not_before = rb_now_sec() + wait;
    if (queue_push(im, job) != 0) return rb_error_nomem(err, RB_STAGE_EMBED, "retry queue");
    return 0;
}

/* Handles one finished transfer; 0 to go on, -1 fails the call. */
static int xfer_done(http_impl *im, he_xfer *x, CURLcode rc, float *out, rb_error *err) {
    he_job job = x->job;
    xfer_stop(im, x);
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        if (x->too_big)
            return fail(im, err, RB_ERR_EMBED, "%s%s", "the answer is larger than 512 MiB", "");
        char why[160];
        snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
        if (curl_retriable(rc)) return retry_or_fail(im, job, -1, why, err);
        return fail(im, err, RB_ERR_HTTP, "%s%s", why, "");
    }
    rb_buf msg;
    rb_buf_init(&msg);
    int result = 0;
    if (status >= 200 && status < 300 && im->dim > 0 && out && im->proto->fast &&
        im->proto->fast(x->answer.data, x->answer.len, job.count, im->dim,
                        out + job.start * im->dim)) {
        rb_buf_free(&msg);
        return 0;
    }
    if (status >= 200 && status < 300) {
        rb_json_doc *doc = NULL;
        rb_error perr;
        if (rb_json_parse(x->answer.data ? x->answer.data : "", x->answer.len, NULL, &doc,
                          &perr) != 0) {
            rb_buf_printf(&msg, "HTTP %ld but the answer is not valid JSON (%s): ", status,
                          perr.msg);
            rb_http_proto_message(x->answer.data, x->answer.len, &msg);
            result = fail(im, err, RB_ERR_EMBED, "%s%s", msg.data, "");
        } else {
            size_t dim = im->dim;
            if (im->proto->parse(rb_json_doc_root(doc), job.count, &dim,
                                 out ? out + job.start * im->dim : NULL, &perr) != 0) {
                const rb_json *e = rb_json_get(rb_json_doc_root(doc), "error");
                if (e) {
                    rb_buf_puts(&msg, " (the provider says: ");
                    rb_http_proto_message(x->answer.data, x->answer.len, &msg);
                    rb_buf_putc(&msg, ')');
                }
                result = fail(im, err, RB_ERR_EMBED, "bad answer: %s%s", perr.msg,
                              msg.data ? msg.data : "");
            } else {
                im->dim = dim;
            }
            rb_json_doc_destroy(doc);
        }
        rb_buf_free(&msg);
        return result;
    }
    rb_buf_printf(&msg, "HTTP %ld: ", status);
    size_t prefix = msg.len;
    rb_http_proto_message(x->answer.data, x->answer.len, &msg);
    bool too_large = status == 413 || ((status == 400 || status == 422) &&
                                       rb_http_proto_too_large(msg.data + prefix));
    if (too_large) {
        if (job.count > 1) {
            /* Halves by count; tokens are re-estimated per half. */
            he_job a = job, b = job;
            a.count = job.count / 2;
            b.start = job.start + a.count;
            b.count = job.count - a.count;
            a.tokens = job.tokens / 2 + 1;
            b.tokens = job.tokens - job.tokens / 2 + 1;
            a.attempt = b.attempt = 0;
            a.not_before = b.not_before = 0;
            if (queue_push(im, a) != 0 || queue_push(im, b) != 0)
                result = rb_error_nomem(err, RB_STAGE_EMBED, "split queue");
        } else {
            result = fail(im, err, RB_ERR_EMBED,
                          "a single text is too large for the provider: %s%s", msg.data, "");
        }
    } else if (status == 429 || status >= 500) {
        /* curl reads Retry-After as seconds or as an HTTP-date; 0 means
         * the header was absent (or said "now"): back off as usual. */
        curl_off_t ra = 0;
        double retry_after = -1;
        if (curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            retry_after = ra > MAX_RETRY_AFTER_S ? MAX_RETRY_AFTER_S : (double)ra;
        result = retry_or_fail(im, job, retry_after, msg.data, err);
    } else {
        result = fail(im, err, RB_ERR_EMBED, "%s%s", msg.data, " (not retried)");
    }
    rb_buf_free(&msg);
    return result;
}

/* Cuts texts[0..n) into jobs by count and approximate tokens. */
static int plan_jobs(http_impl *im, const char *const *texts, size_t n) {
    im->nqueue = 0;
    size_t i = 0;
    while (i < n) {
        he_job job = {i, 0, 0, 0, 0};
        while (i < n && job.count < im->batch_size) {
            size_t t = approx_tokens(texts[i]);
            if (job.count > 0 && job.tokens + t > im->batch_max_tokens) break;
            job.count++;
            job.tokens += t;
            i++;
        }
        if (queue_push(im, job) != 0) return -1;
    }
    return 0;
}

static void stop_all(http_impl *im) {
    for (int i = 0; i < im->concurrency; i++) xfer_stop(im, &im->xfers[i]);
    im->nqueue = 0;
}

/* Runs every job; `out` NULL probes the dimension. */
static int run_jobs(http_impl *im, const char *const *texts, size_t n, float *out, rb_error *err) {
    if (plan_jobs(im, texts, n) != 0) return rb_error_nomem(err, RB_STAGE_EMBED, "jobs");
    for (;;) {
        /* Every turn of the loop waits at most a second: a cancel is seen
         * that soon, in flight or in a backoff. */
        if (im->cancel && atomic_load(im->cancel)) {
            stop_all(im);
            return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED, "%s %s: embedding cancelled",
                                im->proto->name, im->safe_url);
        }
        double now = rb_now_sec();
        double wake = now + 1.0;
        int active = 0;
        for (int i = 0; i < im->concurrency; i++) active += im->xfers[i].busy;
        /* Start what may start, oldest first. */
        for (size_t q = 0; q < im->nqueue && active < im->concurrency;) {
            he_job job = im->queue[q];
            if (job.not_before > now) {
                if (job.not_before < wake) wake = job.not_before;
                q++;
                continue;
            }
            double wait = rb_ratelimit_acquire(&im->rl, (double)job.tokens, now);
            if (wait > 0) {
                if (now + wait < wake) wake = now + wait;
                break;
            }
            he_xfer *x = NULL;
            for (int i = 0; i < im->concurrency && !x; i++)
                if (!im->xfers[i].busy) x = &im->xfers[i];
            memmove(&im->queue[q], &im->queue[q + 1], (im->nqueue - q - 1) * sizeof job);
            im->nqueue--;
            if (xfer_start(im, x, texts, job, err) != 0) {
                stop_all(im);
                return -1;
            }
            active++;
        }
        if (active == 0 && im->nqueue == 0) return 0;
        int running = 0;
        if (curl_multi_perform(im->multi, &running) != CURLM_OK) {
            stop_all(im);
            return rb_error_set(err, RB_ERR_HTTP, RB_STAGE_EMBED, "curl_multi_perform failed");
        }
        CURLMsg *m;
        int left;
        bool finished = false; /* a slot freed: start the next request now */
        while ((m = curl_multi_info_read(im->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE) continue;
            he_xfer *x = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            CURLcode rc = m->data.result;
            finished = true;
            if (xfer_done(im, x, rc, out, err) != 0) {
                stop_all(im);
                return -1;
            }
            if (!out && im->dim) { /* probe answered */
                stop_all(im);
                return 0;
            }
        }
        if (finished) continue;
        now = rb_now_sec();
        double ms = (wake - now) * 1e3;
        if (ms < 0) ms = 0;
        if (ms > 1000) ms = 1000;
        /* With nothing in flight curl_multi_poll still sleeps the timeout:
         * that is the backoff / rate-limit wait. */
        int timeout = (int)ms + (ms > 0 ? 1 : 0);
        curl_multi_poll(im->multi, NULL, 0, running ? (timeout < 100 ? timeout : 100) : timeout,
                        NULL);
    }
}

static int http_embed(void *impl, const char *const *texts, size_t n, float *out, rb_error *err) {
    return run_jobs(impl, texts, n, out, err);
}

static void http_destroy(void *impl) {
    http_impl *im = impl;
    if (!im) return;
    if (im->xfers) {
        for (int i = 0; i < im->concurrency; i++) {
            xfer_stop(im, &im->xfers[i]);
            if (im->xfers[i].h) curl_easy_cleanup(im->xfers[i].h);
            rb_buf_free(&im->xfers[i].body);
            rb_buf_free(&im->xfers[i].answer);
        }
        free(im->xfers);
    }
    if (im->multi) curl_multi_cleanup(im->multi);
    curl_slist_free_all(im->headers);
    if (im->key) memset(im->key, 0, strlen(im->key));
    free(im->key);
    free(im->url);
    free(im->safe_url);
    free(im->model);
    free(im->ca_file);
    free(im->queue);
    free(im);
}

static void http_set_cancel(void *impl, const atomic_int *cancel) {
    ((http_impl *)impl)->cancel = cancel;
}

static const rb_embedder_ops openai_ops = {"openai",        http_embed, http_destroy,
                                           http_set_cancel, NULL,       NULL};
static const rb_embedder_ops tei_ops = {"tei",           http_embed, http_destroy,
                                        http_set_cancel, NULL,       NULL};

/* The endpoint without "user:password@" and without the query. */
static char *safe_url_of(const char *url) {
    rb_buf b;
    rb_buf_init(&b);
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *path = host + strcspn(host, "/?#");
    const char *at = memchr(host, '@', (size_t)(path - host));
    rb_buf_append(&b, url, (size_t)(host - url));
    if (at) host = at + 1;
    rb_buf_append(&b, host, strcspn(host, "?#"));
    return b.data ? rb_buf_detach(&b) : strdup(url);
}

static char *dup_or_null(const char *s) { return s && s[0] ? strdup(s) : NULL; }

rb_embedder *rb_embedder_http_new(const rb_http_embed_opts *o, rb_error *err) {
    const rb_http_proto *proto = NULL;
    const rb_embedder_ops *ops = NULL;
    if (o->provider && strcmp(o->provider, "openai") == 0) {
        proto = &rb_http_proto_openai;
        ops = &openai_ops;
    } else if (o->provider && strcmp(o->provider, "tei") == 0) {
        proto = &rb_http_proto_tei;
        ops = &tei_ops;
    } else {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "unknown HTTP embedding provider '%s'",
                     o->provider ? o->provider : "");
        return NULL;
    }
    if (!o->url || !o->url[0]) {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "embed.provider = %s needs embed.url",
                     proto->name);
        return NULL;
    }
    /* The defaults are the job table's (rb_runner_http_embed_defaults), not
     * restated here: an option left at zero is the caller's mistake. */
    const struct {
        const char *name;
        long long value, min;
    } ranged[] = {
        {"concurrency (embed.concurrency)", o->concurrency, 1},
        {"timeout_ms (embed.request.timeout.ms)", o->timeout_ms, 1},
        {"retries (embed.retries)", o->retries, 0},
        {"backoff_ms (embed.retry.backoff.ms)", o->backoff_ms, 1},
        {"backoff_max_ms (embed.retry.backoff.max.ms)", o->backoff_max_ms, 1},
        {"batch_size (embed.batch.size)", (long long)o->batch_size, 1},
        {"batch_max_tokens (embed.batch.max.tokens)", (long long)o->batch_max_tokens, 1},
    };
    for (size_t i = 0; i < sizeof ranged / sizeof ranged[0]; i++) {
        if (ranged[i].value >= ranged[i].min) continue;
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                     "HTTP embedder (%s): option %s = %lld is below %lld", proto->name,
                     ranged[i].name, ranged[i].value, ranged[i].min);
        return NULL;
    }
    http_impl *im = calloc(1, sizeof *im);
    if (!im) {
        rb_error_nomem(err, RB_STAGE_EMBED, "HTTP embedder");
        return NULL;
    }
    im->proto = proto;
    im->concurrency = o->concurrency;
    im->timeout_ms = o->timeout_ms;
    im->retries = o->retries;
    im->backoff_ms = o->backoff_ms;
    im->backoff_max_ms = o->backoff_max_ms;
    if (im->backoff_max_ms < im->backoff_ms) im->backoff_max_ms = im->backoff_ms;
    im->batch_size = o->batch_size;
    im->batch_max_tokens = o->batch_max_tokens;
    im->tls_verify = o->tls_verify != 0;
    im->dim = o->dimensions;
    im->dims_sent = proto == &rb_http_proto_openai ? o->dimensions : 0;
    rb_prng_seed(&im->rng, (uint64_t)rb_wall_ms() ^ (uint64_t)(uintptr_t)im);
    rb_ratelimit_init(&im->rl, o->requests_per_minute, o->tokens_per_minute, rb_now_sec());

    rb_buf url;
    rb_buf_init(&url);
    bool nomem = proto->url(o->url, o->api_version, &url) != 0;
    im->url = nomem ? NULL : rb_buf_detach(&url);
    rb_buf_free(&url);
    im->safe_url = im->url ? safe_url_of(im->url) : NULL;
    im->model = strdup(o->model ? o->model : "");
    im->key = dup_or_null(o->api_key);
    im->ca_file = dup_or_null(o->ca_file);
    nomem = nomem || !im->url || !im->safe_url || !im->model ||
            (o->api_key && o->api_key[0] && !im->key) ||
            (o->ca_file && o->ca_file[0] && !im->ca_file);

    struct curl_slist *h = NULL;
    const char *fixed[] = {"Content-Type: application/json", "Accept: application/json",
                           "Expect:"}; /* no 100-continue round trip */
    for (size_t i = 0; i < 3 && !nomem; i++) {
        struct curl_slist *n = curl_slist_append(h, fixed[i]);
        if (!n)
            nomem = true;
        else
            h = n;
    }
    if (!nomem && im->key) {
        rb_buf auth;
        rb_buf_init(&auth);
        bool azure = o->api_version && o->api_version[0];
        if (rb_buf_printf(&auth, azure ? "api-key: %s" : "Authorization: Bearer %s", im->key) !=
            0) {
            nomem = true;
        } else {
            struct curl_slist *n = curl_slist_append(h, auth.data);
            if (!n)
                nomem = true;
            else
                h = n;
            memset(auth.data, 0, auth.len);
        }
        rb_buf_free(&auth);
    }
    im->headers = h;
    if (!nomem) {
        im->multi = curl_multi_init();
        im->xfers = calloc((size_t)im->concurrency, sizeof *im->xfers);
        nomem = !im->multi || !im->xfers;
        for (int i = 0; !nomem && i < im->concurrency; i++) {
            rb_buf_init(&im->xfers[i].body);
            rb_buf_init(&im->xfers[i].answer);
            if (!(im->xfers[i].h = curl_easy_init())) nomem = true;
        }
    }
    if (nomem) {
        http_destroy(im);
        rb_error_nomem(err, RB_STAGE_EMBED, "HTTP embedder");
        return NULL;
    }
    if (im->dim == 0) {
        const char *probe = "dimension probe";
        if (run_jobs(im, &probe, 1, NULL, err) != 0) {
            rb_error_prefix(err, "probing the vector size (set embed.dimensions to skip)");
            http_destroy(im);
            return NULL;
        }
    }
    size_t dim = im->dim;
    const char *model = o->model && o->model[0] ? o->model : proto->name;
    return rb_embedder_wrap(ops, im, dim, model, err);
}
