#!/usr/bin/env python3
"""An update storm with a chosen share of unchanged texts, for reuse.sh.

    ragbatch generate --stdout ... | storm.py UNCHANGED SEED > events.jsonl

Reads product events (JSON lines of `ragbatch generate --stdout`) and, for
each "updated" event, with probability UNCHANGED gives it back the text
fields of its product's previous created/updated event (the fields the
product-updates template renders: name, brand, category, description,
tags), so that its text is the stored one and only price, stock, version
and time change.  Other events pass unchanged.  Prints on stderr how many
updates were rewritten.
"""
import json
import random
import sys

TEXT_FIELDS = ("name", "brand", "category", "description", "tags")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    share, rng = float(sys.argv[1]), random.Random(int(sys.argv[2]))
    last = {}
    updates = rewritten = 0
    for line in sys.stdin:
        e = json.loads(line)
        pid, kind = e.get("product_id"), e.get("event_type")
        if kind == "updated" and pid in last:
            updates += 1
            if rng.random() < share:
                for f in TEXT_FIELDS:
                    e.pop(f, None)
                    if f in last[pid]:
                        e[f] = last[pid][f]
                rewritten += 1
        if kind in ("created", "updated"):
            last[pid] = {f: e[f] for f in TEXT_FIELDS if f in e}
        elif kind == "deleted":
            last.pop(pid, None)
        sys.stdout.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"storm: {rewritten} of {updates} updates keep their product's text", file=sys.stderr)


if __name__ == "__main__":
    main()
