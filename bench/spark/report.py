#!/usr/bin/env python3
"""Helpers of bench/spark/compare.sh (run with the venv's Python: pymongo 4.8.0).

  report.py ragbatch-log LOG
      reads a `ragbatch run --log.format=json` log: seconds from the start line
      to the caught_up line, number of batches, the per-stage times (durationMs)
      of the first and the last full batch and their sums; prints one JSON line.
      Every durationMs key is reported, so stages added later show up as well.
  report.py same URI DB_A DB_B COLLECTION
      compares two databases written by the two engines from the same topic:
      document counts, tombstones, ids only in one, and for the ids in both
      whether version, deleted, text, text_hash, metadata and (within 1e-6)
      the embedding agree; prints one JSON line, exits 1 if the counts differ.
  report.py digest URI DB COLLECTION FILE
      writes, per document, what `same` compares except the embedding's values
      (its length instead), so that the first database can be dropped before
      the second engine runs (a server that keeps everything in memory).
  report.py same-digest URI DB COLLECTION FILE
      `same` against such a digest.
  report.py drop URI DB...
      drops benchmark databases.
"""
import json
import struct
import sys
from datetime import datetime


def ts(s):
    return datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def ragbatch_log(path):
    start = end = None
    batches = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                o = json.loads(line)
            except ValueError:
                continue
            # ECS keys since the log format change; the old ones before it.
            event = o.get("event.action", o.get("event"))
            when = o.get("@timestamp", o.get("ts"))
            if event == "start" and start is None:
                start = ts(when)
            elif event == "caught_up" and end is None:
                end = ts(when)
            elif "batchId" in o and "durationMs" in o:
                batches.append(o)
    if start is None or end is None:
        sys.exit(f"report: {path}: no start or caught_up line")
    full = [b for b in batches if b.get("numInputRows", 0) > 0]
    sums = {}
    for b in full:
        for k, v in b["durationMs"].items():
            sums[k] = sums.get(k, 0.0) + v
    rows = sum(b.get("numInputRows", 0) for b in full)
    rec = {}
    for b in full:
        for k, v in b.get("records", {}).items():
            rec[k] = rec.get(k, 0) + v
    out = {"seconds": round(end - start, 3), "batches": len(full), "in": rows,
           "records": rec, "embedded": sum(b.get("embedded", 0) for b in full),
           "first": {"rows": full[0]["numInputRows"], **full[0]["durationMs"]} if full else {},
           "last": {"rows": full[-1]["numInputRows"], **full[-1]["durationMs"]} if full else {},
           "sum_ms": {k: round(v, 1) for k, v in sums.items()}}
    print(json.dumps(out))


def vec(v):
    if isinstance(v, list):
        return v
    b = bytes(v)
    if len(b) >= 2 and b[0] == 0x27:
        return list(struct.unpack(f"<{(len(b) - 2) // 4}f", b[2:]))
    return None


def same(uri, da, db, coll):
    import pymongo
    c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=10000)

    def load(d):
        return {x["_id"]: x for x in c[d][coll].find({}, batch_size=500)}
    a, b = load(da), load(db)
    out = {"docs_a": len(a), "docs_b": len(b),
           "tombstones_a": sum(1 for x in a.values() if x.get("deleted")),
           "tombstones_b": sum(1 for x in b.values() if x.get("deleted")),
           "only_a": len(a.keys() - b.keys()), "only_b": len(b.keys() - a.keys())}
    diff = {k: 0 for k in ("version", "deleted", "text", "text_hash", "metadata", "embedding")}
    example = {}
    for k in a.keys() & b.keys():
        x, y = a[k], b[k]
        for f in ("version", "deleted", "text", "text_hash", "metadata"):
            if x.get(f) != y.get(f):
                diff[f] += 1
                example.setdefault(f, [k, str(x.get(f))[:120], str(y.get(f))[:120]])
        if "embedding" in x or "embedding" in y:
            va, vb = vec(x.get("embedding")), vec(y.get("embedding"))
            if va is None or vb is None or len(va) != len(vb) or \
                    max(abs(p - q) for p, q in zip(va, vb)) > 1e-6:
                diff["embedding"] += 1
                example.setdefault("embedding", [k])
    out["differ"] = diff
    out["examples"] = example
    print(json.dumps(out))
    return 0 if len(a) == len(b) and not out["only_a"] and not out["only_b"] else 1


# Reads use batches of 500 documents: mongo-java-server 1.47.0 does not cap a
# reply batch at 16 MiB as MongoDB does, and pymongo refuses a reply above
# 48 MB (a find over 10,000 documents with 384-double arrays came back as one
# 58 MB message).


def summary_of(x):
    v = vec(x.get("embedding")) if "embedding" in x else None
    return {"version": x.get("version"), "deleted": x.get("deleted"), "text": x.get("text"),
            "text_hash": x.get("text_hash"), "metadata": x.get("metadata"),
            "embedding": None if v is None else len(v)}


def digest(uri, d, coll, path):
    import pymongo
    from bson import json_util
    c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=10000)
    with open(path, "w", encoding="utf-8") as f:
        for x in c[d][coll].find({}, batch_size=500):
            f.write(json_util.dumps({"_id": x["_id"], **summary_of(x)}) + "\n")


def same_digest(uri, d, coll, path):
    import pymongo
    from bson import json_util
    c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=10000)
    with open(path, encoding="utf-8") as f:
        a = {o["_id"]: o for o in (json_util.loads(line) for line in f)}
    b = {x["_id"]: {"_id": x["_id"], **summary_of(x)} for x in c[d][coll].find({}, batch_size=500)}
    out = {"docs_a": len(a), "docs_b": len(b),
           "tombstones_a": sum(1 for x in a.values() if x.get("deleted")),
           "tombstones_b": sum(1 for x in b.values() if x.get("deleted")),
           "only_a": len(a.keys() - b.keys()), "only_b": len(b.keys() - a.keys())}
    diff = {k: 0 for k in ("version", "deleted", "text", "text_hash", "metadata", "embedding")}
    example = {}
    for k in a.keys() & b.keys():
        for f in diff:
            if a[k].get(f) != b[k].get(f):
                diff[f] += 1
                example.setdefault(f, [k, str(a[k].get(f))[:120], str(b[k].get(f))[:120]])
    out["differ"] = diff
    out["examples"] = example
    out["embedding_compared"] = "length only (digest)"
    print(json.dumps(out))
    return 0 if len(a) == len(b) and not out["only_a"] and not out["only_b"] else 1


def drop(uri, names):
    import pymongo
    c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=10000)
    for n in names:
        c.drop_database(n)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "ragbatch-log":
        ragbatch_log(sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[1] == "same":
        sys.exit(same(*sys.argv[2:]))
    elif len(sys.argv) == 6 and sys.argv[1] == "digest":
        digest(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "same-digest":
        sys.exit(same_digest(*sys.argv[2:]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "drop":
        drop(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
