/*
 * json_tokens.h -- the token boundaries of a JSON text, in one linear pass.
 * Private to src/validate (json.c builds documents from the tokens).
 *
 * The tokenizer finds objects, arrays, strings and primitives (numbers and
 * literals, not yet checked) with their byte ranges, the number of direct
 * children of each container (keys, for an object) and of each key (its
 * value), in document order.  It rejects what cannot start or end a token
 * where it stands (a primitive or container as an object key, a mismatched
 * or unmatched closing bracket, a bad escape, a control byte in a
 * primitive) and an input that ends inside a token or container.  The rest
 * of the grammar -- commas, colons, literals, number syntax, what follows
 * the value -- is checked by json.c's walk over the tokens.
 *
 * Cost: every byte is looked at once, and a closing bracket finds its
 * container on a stack, so the time is linear in the input whatever its
 * shape.  Nesting deeper than max_depth is an error at the bracket that
 * opens the level too many, found as it is read: deep input is rejected
 * after reading only max_depth + 1 brackets of it.
 *
 * The token array is malloc'ed and grows as needed; the caller frees it,
 * also after a failure (it then holds the tokens read so far, containers
 * still open having end -1).
 */
#ifndef RB_JSON_TOKENS_H
#define RB_JSON_TOKENS_H

#include <stddef.h>

typedef enum json_tok_type {
    JSON_TOK_OBJECT = 1,
    JSON_TOK_ARRAY,
    JSON_TOK_STRING, /* start and end exclude the quotes */
    JSON_TOK_PRIMITIVE
} json_tok_type;

typedef struct json_tok {
    json_tok_type type;
    int start, end; /* byte offsets; end is one past, -1 while a container is open */
    int size;       /* direct children: items, keys, or a key's value */
    int parent;     /* enclosing container or key, -1 at the top */
} json_tok;

typedef enum json_tok_status {
    JSON_TOK_DONE = 0,
    JSON_TOK_INVALID,  /* a byte that cannot be where it is; *pos names it */
    JSON_TOK_PARTIAL,  /* the input ends inside a token or container */
    JSON_TOK_DEEP,     /* *pos is the bracket opening level max_depth + 1 */
    JSON_TOK_TOO_MANY, /* more than max_tokens (when not 0); *pos is where */
    JSON_TOK_NOMEM
} json_tok_status;

typedef struct json_tokens {
    json_tok *tok; /* owned by the caller once tokenizing returns */
    int count;
    size_t pos; /* where tokenizing stopped (the failure's offset) */
} json_tokens;

/* Tokenizes `len` bytes of `js`, which must end in a white-space byte (so a
 * top-level number has a delimiter), hold no NUL byte and be followed by
 * one (js[len] == '\0').  `expected` sizes the first allocation. */
json_tok_status json_tokenize_text(const char *js, size_t len, size_t max_depth, size_t max_tokens,
                                   size_t expected, json_tokens *out);

#endif
