#!/usr/bin/env python3
"""Probe a MongoDB-wire test server: the facts docs/test-servers.md records.

Not part of the product or the suites: a developer tool, so that every
statement about FerretDB and mongo-java-server there can be checked again
with one command. Needs pymongo 4.8.0 (newer pymongo refuses
mongo-java-server's wire version 8) in a scratch virtualenv:

    python3 -m venv /tmp/pm && /tmp/pm/bin/pip install pymongo==4.8.0
    . run/servers.env
    /tmp/pm/bin/python scripts/mongo-probe.py behaviour "$RAGBATCH_MONGO_JAVA_URI"
    /tmp/pm/bin/python scripts/mongo-probe.py ttl "$RAGBATCH_MONGO_JAVA_URI" 150
    flock /tmp/rb/timing.lock /tmp/pm/bin/python scripts/mongo-probe.py \
        costs "$RAGBATCH_MONGO_JAVA_URI" 1000,10000,20000 50 50

behaviour   raw commands (writes, indexes, aggregation stages, values) and
            the server's reply, unaltered, one "## name" block each
ttl URI S   a TTL index, one expired and one live document, the ids after S s
costs URI SIZES VERSIONED_OPS PLAIN_OPS
            a Markdown table of query times (medians) at each collection
            size; update commands hold that many ops (FerretDB hangs on an
            update of about 100 replacements of existing documents: use 20
            and 5 there)

Each probe works in a database of its own (probe_*) and drops it.
"""
import datetime
import hashlib
import math
import statistics
import sys
import time

import pymongo
from bson import SON, Binary, json_util


def client(uri):
    return pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)


def raw(db, cmd):
    """The reply to a command as JSON, errors included, without cluster time."""
    try:
        r = db.command(cmd)
    except pymongo.errors.OperationFailure as e:
        r = {"EXC": e.details}
    except pymongo.errors.PyMongoError as e:
        r = {"EXC": repr(e)}
    r.pop("$clusterTime", None)
    r.pop("operationTime", None)
    return json_util.dumps(r)


def behaviour(uri):
    c = client(uri)
    db = c.probe_behaviour
    c.drop_database(db.name)

    def show(name, cmd, on=db):
        print("## %s\n%s" % (name, raw(on, cmd)))

    def ids():
        print("## stored:", json_util.dumps(list(db.docs.find({}, {"version": 1}).sort("_id", 1))))

    show("hello", {"hello": 1}, c.admin)
    r = c.admin.command("isMaster")
    print("## isMaster", {k: r.get(k) for k in ("ismaster", "maxWireVersion", "setName")})
    print("## buildInfo version", c.admin.command("buildInfo").get("version"))

    db.docs.insert_many([{"_id": "a", "version": 7}, {"_id": "b", "version": 7}])

    def vup(i, v):
        return {"q": {"_id": i, "version": {"$lt": v}}, "u": {"_id": i, "version": v}, "upsert": True}

    show("versioned upsert against a newer document", {"update": "docs", "updates": [vup("a", 3)]})
    show("versioned upsert, equal version", {"update": "docs", "updates": [vup("a", 7)]})
    show("update ordered:false [b newer, a stale, e new, a stale]",
         {"update": "docs", "ordered": False, "updates": [vup("b", 9), vup("a", 3), vup("e", 1), vup("a", 2)]})
    ids()
    show("update ordered:true [f new, a stale, g new]",
         {"update": "docs", "ordered": True, "updates": [vup("f", 1), vup("a", 3), vup("g", 1)]})
    ids()
    show("update [existing a, new x, new y]: upserted indexes",
         {"update": "docs", "updates": [{"q": {"_id": k}, "u": {"_id": k, "version": 8}, "upsert": True}
                                        for k in ("a", "x", "y")]})
    show("insert ordered:false [h, duplicate a, i]",
         {"insert": "docs", "ordered": False, "documents": [{"_id": "h"}, {"_id": "a"}, {"_id": "i"}]})
    show("insert ordered:true [j, duplicate a, k]",
         {"insert": "docs", "ordered": True, "documents": [{"_id": "j"}, {"_id": "a"}, {"_id": "k"}]})
    ids()
    show("writeConcern majority", {"insert": "docs", "documents": [{"_id": "wc1"}],
                                   "writeConcern": {"w": "majority", "j": True, "wtimeout": 1000}})
    show("writeConcern w:2", {"insert": "docs", "documents": [{"_id": "wc2"}], "writeConcern": {"w": 2}})
    show("endSessions", {"endSessions": []}, c.admin)

    db.arr.insert_one({"_id": 1, "arr": [{"k": 1, "v": 0}, {"k": 2, "v": 0}]})
    show("arrayFilters", {"update": "arr", "updates": [
        {"q": {"_id": 1}, "u": {"$set": {"arr.$[e].v": 9}}, "arrayFilters": [{"e.k": 2}]}]})
    print("## after arrayFilters", db.arr.find_one())

    show("createIndexes unique + compound (empty collection)", {"createIndexes": "ix", "indexes": [
        {"key": {"ext": 1}, "name": "ext_1", "unique": True}, {"key": {"tenant": 1, "version": -1}, "name": "tv"}]})
    show("createIndexes the same again", {"createIndexes": "ix", "indexes": [
        {"key": {"ext": 1}, "name": "ext_1", "unique": True}]})
    show("two upserts with the same unique ext", {"update": "ix", "updates": [
        {"q": {"_id": k}, "u": {"_id": k, "ext": "E"}, "upsert": True} for k in ("u1", "u2")]})
    show("createIndexes non-unique secondary", {"createIndexes": "ix", "indexes": [
        {"key": {"text_hash": 1}, "name": "text_hash_1"}]})
    show("createIndexes unique partial", {"createIndexes": "part", "indexes": [
        {"key": {"pk": 1}, "name": "pk_partial", "unique": True,
         "partialFilterExpression": {"pk": {"$exists": True}}}]})
    show("two documents without pk under the partial index",
         {"insert": "part", "documents": [{"_id": 1}, {"_id": 2}]})
    show("createIndexes TTL", {"createIndexes": "ttl", "indexes": [
        {"key": {"expires": 1}, "name": "ttl", "expireAfterSeconds": 0}]})
    print("## listIndexes ix", json_util.dumps(db.ix.index_information()))

    args = {"$match": {}, "$project": {"version": 1}, "$sort": {"_id": 1}, "$limit": 1, "$skip": 0,
            "$group": {"_id": None, "n": {"$sum": 1}}, "$unwind": "$arr", "$count": "n",
            "$unset": "version", "$addFields": {"z": 1}, "$set": {"z": 1},
            "$lookup": {"from": "docs", "localField": "_id", "foreignField": "_id", "as": "j"},
            "$replaceRoot": {"newRoot": {"a": "$_id"}}, "$facet": {"a": [{"$limit": 1}]},
            "$bucket": {"groupBy": "$version", "boundaries": [0, 100], "default": "o"},
            "$sample": {"size": 1},
            "$densify": {"field": "version", "range": {"step": 1, "bounds": "full"}},
            "$vectorSearch": {"index": "v", "path": "embedding", "queryVector": [0.1, 0.2],
                              "numCandidates": 10, "limit": 1},
            "$search": {"text": {"query": "x", "path": "t"}}, "$listSearchIndexes": {}}
    for stage, arg in args.items():
        r = raw(db, {"aggregate": "docs", "pipeline": [{stage: arg}], "cursor": {}})
        print("## aggregate %s: %s" % (stage, "ok" if '"EXC"' not in r else r[:240]))
    show("createSearchIndexes", {"createSearchIndexes": "docs", "indexes": [
        {"name": "v", "type": "vectorSearch", "definition": {"fields": [
            {"type": "vector", "path": "embedding", "numDimensions": 2, "similarity": "cosine"}]}}]})
    lsid = {"id": Binary(b"0123456789abcdef", 4)}
    show("insert with startTransaction", {"insert": "docs", "documents": [{"_id": "t1"}],
                                          "startTransaction": True, "autocommit": False,
                                          "txnNumber": 1, "lsid": lsid})
    show("abortTransaction", {"abortTransaction": 1, "txnNumber": 1, "autocommit": False,
                              "lsid": lsid}, c.admin)
    print("## t1 after abort", db.docs.find_one({"_id": "t1"}))

    vec = [math.sin(i) for i in range(384)]
    db.docs.insert_one({"_id": "vec", "embedding": vec})
    print("## 384 doubles round-trip exactly:", db.docs.find_one({"_id": "vec"})["embedding"] == vec)

    def deep(n):
        d = {"x": 1}
        for _ in range(n):
            d = {"n": d}
        return d

    values = [("NaN", float("nan")), ("+Inf", float("inf")), ("nested arrays", [[1, 2], [3]]),
              ("NUL in a string", "a\0b"), ("nested $ key", {"$bad": 1}), ("nested dot key", {"a.b": 1}),
              ("empty key", {"": 1}), ("101 levels", deep(101)), ("200 levels", deep(200)),
              ("binary subtype 9 (float32 vector)", Binary(b"\x27\x00" + b"\x00\x00\x80\x3f", 9))]
    for i, (name, value) in enumerate(values):
        ident = "v%d" % i
        show("replacement upsert holding " + name, SON([("update", "values"), ("updates", [
            {"q": {"_id": ident}, "u": {"_id": ident, "m": value}, "upsert": True}])]))
    show("replacement with a top-level $ key", SON([("update", "values"), ("updates", [
        {"q": {"_id": "top"}, "u": SON([("_id", "top"), ("$bad", 1)]), "upsert": True}])]))
    c.drop_database(db.name)


def ttl(uri, seconds):
    c = client(uri)
    db = c.probe_ttl
    c.drop_database(db.name)
    print(raw(db, {"createIndexes": "ttl", "indexes": [
        {"key": {"expires": 1}, "name": "ttl", "expireAfterSeconds": 0}]}))
    now = datetime.datetime.now(datetime.timezone.utc)
    db.ttl.insert_many([{"_id": "past", "expires": now - datetime.timedelta(hours=1)},
                        {"_id": "future", "expires": now + datetime.timedelta(hours=1)}])
    time.sleep(seconds)
    print("after %d s: %s" % (seconds, sorted(d["_id"] for d in db.ttl.find())))
    c.drop_database(db.name)


def costs(uri, sizes, versioned_ops, plain_ops):
    c = client(uri)
    db = c.probe_costs
    c.drop_database(db.name)
    coll = db.docs
    db.command({"createIndexes": "docs", "indexes": [{"key": {"text_hash": 1}, "name": "text_hash_1"}]})
    emb = [math.sin(i) for i in range(384)]

    def doc(i, v=1):
        t = "Product %d: a sturdy thing for everyday use, with a long enough description." % i
        return {"_id": "p-%06d" % i, "version": v, "text": t,
                "text_hash": hashlib.sha256(t.encode()).hexdigest(), "embedding": emb,
                "metadata": {"price": i % 100, "category": "c%d" % (i % 7)}}

    def median_ms(f, reps):
        out = []
        for _ in range(reps):
            t = time.perf_counter()
            f()
            out.append((time.perf_counter() - t) * 1000)
        return statistics.median(out)

    print("| docs | `{_id: X}` find | `{_id: {$in: 1000 ids}}` find | same, projection "
          "`text_hash` + `embedding` | replace `{_id}` upsert, per op | replace "
          "`{_id, version: {$lt}}` upsert, per op | `{text_hash: {$in: 100}}` find |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    have = 0
    for n in sizes:
        while have < n:
            k = min(1000, n - have)
            coll.insert_many([doc(i) for i in range(have, have + k)], ordered=False)
            have += k
        step = max(1, n // 1000)
        ids = ["p-%06d" % i for i in range(0, n, step)][:1000]
        hashes = [doc(i)["text_hash"] for i in range(0, n, max(1, n // 100))][:100]
        point = median_ms(lambda: coll.find_one({"_id": "p-%06d" % (n // 2)}), 50)
        in_ids = median_ms(lambda: list(coll.find({"_id": {"$in": ids}}, {"_id": 1})), 3)
        in_proj = median_ms(lambda: list(coll.find({"_id": {"$in": ids}},
                                                   {"text_hash": 1, "embedding": 1})), 3)

        def update_ms_per_op(versioned, count):
            v = time.time_ns()  # newer than anything stored: every op replaces
            ops = [{"q": ({"_id": "p-%06d" % (j * step), "version": {"$lt": v}} if versioned
                          else {"_id": "p-%06d" % (j * step)}),
                    "u": doc(j * step, v), "upsert": True} for j in range(count)]
            t = time.perf_counter()
            r = db.command({"update": "docs", "ordered": False, "updates": ops})
            elapsed = time.perf_counter() - t
            assert not r.get("writeErrors"), r
            return elapsed * 1000 / count

        plain = statistics.median([update_ms_per_op(False, plain_ops) for _ in range(3)])
        versioned = statistics.median([update_ms_per_op(True, versioned_ops) for _ in range(3)])
        by_hash = median_ms(lambda: list(coll.find({"text_hash": {"$in": hashes}}, {"_id": 1})), 3)
        print("| %d | %.2f ms | %.1f ms | %.1f ms | %.3f ms | %.2f ms | %.1f ms |"
              % (n, point, in_ids, in_proj, plain, versioned, by_hash))
    c.drop_database(db.name)


def main(argv):
    if len(argv) >= 2 and argv[0] == "behaviour":
        behaviour(argv[1])
    elif len(argv) == 3 and argv[0] == "ttl":
        ttl(argv[1], int(argv[2]))
    elif len(argv) == 5 and argv[0] == "costs":
        costs(argv[1], [int(x) for x in argv[2].split(",")], int(argv[3]), int(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
