#!/usr/bin/env python3
"""long_events.py -- long product descriptions for the chunking pipeline
benchmark (bench/chunk/pipeline.sh), built from `ragbatch generate --stdout`
events read on stdin.

  long_events.py PRODUCTS PARAGRAPHS EDITS SEED INITIAL.jsonl EDITS.jsonl

The first PRODUCTS events become the products; every event read lends its
description to a pool of sentences-worth of prose.  Each product gets a
description of PARAGRAPHS paragraphs (blank lines between), each three
descriptions from the pool: INITIAL.jsonl holds one event per product.
EDITS.jsonl holds EDITS updates, each of a product chosen at random, with
one of its paragraphs replaced by a new one and the version raised by one.
Deterministic for a SEED.  Prints the sizes on stderr.
"""
import json
import random
import sys


def main():
    products, paragraphs, edits, seed = (int(a) for a in sys.argv[1:5])
    initial_path, edits_path = sys.argv[5], sys.argv[6]
    rng = random.Random(seed)
    events = [json.loads(line) for line in sys.stdin if line.strip()]
    pool = [e["description"] for e in events if e.get("description")]
    if len(events) < products or len(pool) < 10:
        sys.exit("long_events: not enough generated events")

    def paragraph():
        return " ".join(rng.choice(pool) for _ in range(3))

    state = []
    with open(initial_path, "w") as out:
        for e in events[:products]:
            e = dict(e)
            e["event_type"] = "created"
            e["version"] = 1
            paras = [paragraph() for _ in range(paragraphs)]
            e["description"] = "\n\n".join(paras)
            state.append((e, paras))
            out.write(json.dumps(e) + "\n")
    with open(edits_path, "w") as out:
        for _ in range(edits):
            i = rng.randrange(products)
            e, paras = state[i]
            paras = list(paras)
            paras[rng.randrange(paragraphs)] = paragraph()
            e = dict(e)
            e["event_type"] = "updated"
            e["version"] += 1
            e["description"] = "\n\n".join(paras)
            state[i] = (e, paras)
            out.write(json.dumps(e) + "\n")
    words = sum(len(e["description"].split()) for e, _ in state) / products
    print(f"long_events: {products} products, {paragraphs} paragraphs, about {words:.0f} "
          f"words each; {edits} one-paragraph edits", file=sys.stderr)


if __name__ == "__main__":
    main()
