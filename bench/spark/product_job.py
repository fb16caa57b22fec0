#!/usr/bin/env python3
"""The PySpark peer of a ragbatch job, for the comparisons of bench/spark/
(a measuring instrument, never part of the product).

    spark-submit ... product_job.py --config EFFECTIVE.conf --checkpoint DIR
        [--cores N] [--embed http|model] [--summary FILE]

EFFECTIVE.conf is what `ragbatch check JOB --set ...` prints (key = value
lines), so both engines run the same job definition: topic, bootstrap
servers, schema file, id/version/time/op fields, delete values, text
template, metadata fields, embedding provider, URL, model, batch size and
concurrency, reuse on/off, MongoDB URI, database, collection, vector format.

What it does, as Structured Streaming with trigger(availableNow=True) (the
whole range present at start, as `ragbatch run --until caught-up`):

- reads the topic from the earliest offsets (no maxOffsetsPerTrigger, so
  availableNow reads it in one micro-batch);
- validates in Spark SQL what conf/product_schema.json says, translated from
  the schema file (schema_to_spark below): types through from_json with a
  corrupt-record column, required, enum, const, minLength, maxLength,
  pattern, format date-time, minimum, maximum, minItems, maxItems, items,
  additionalProperties (false, or a schema for the values of an object),
  if/then/else.  Deviations from ragbatch's validator, none of which the
  benchmarks' generated events exercise: a JSON number or boolean where a
  string is expected is accepted as its text (Spark's JSON reader turns any
  token into a string column); an explicit null for an optional property is
  accepted; invalid UTF-8 is replaced, not rejected; duplicate keys are not
  detected;
- renders the text with the job's template compiled into a Spark SQL
  expression (template_column below: {field}, {field?}, [[ sections ]],
  arrays joined by ", ", white space folded and trimmed);
- keeps the newest version of each id in the batch (a hash aggregate with
  max_by; shuffle partitions from spark.sql.shuffle.partitions);
- in a foreachBatch writer, per partition of that aggregate (Python
  workers), in chunks of batch.max.records rows: the reuse lookup (one find on {_id: {$in: ids}}, projection
  text_hash, model, embedding, as ragbatch's), embedding of the texts that
  cannot reuse a stored vector (the instant HTTP server with a keep-alive
  connection per thread and embed.concurrency requests in flight, or
  sentence-transformers on the local model directory), and versioned
  idempotent upserts in one bulk_write(ordered=False):
    --versions filter: replaceOne({_id, version: {$lt: v}}, doc,
      upsert=True); a duplicate-key error is a stale record (atomic: what
      MongoDB serves from its _id index);
    --versions lookup: the stored versions come with the reuse lookup (the
      same find by _id), and only newer records are written, with
      replaceOne({_id}, doc, upsert=True): the query shapes that test
      servers which scan for any filter beyond _id still serve from their
      _id index (one writer per id, as Kafka's partitioning gives);
    --versions auto (default): lookup on FerretDB (its buildInfo says so,
      as ragbatch's sink detects it), filter elsewhere.
  Delete events write the same tombstone document as ragbatch
  (deleted: true).

Counts (in, invalid, stored, deleted, stale, reused, embedded) come from
accumulators; the summary line is JSON on stdout and in --summary:
query_s is the time from starting the streaming query to its end, which is
what records/s is computed from.  Before it, the SparkSession is built and
each Python worker is warmed (embedder loaded, MongoDB client connected), as
ragbatch loads its model before its start line.
"""
import argparse
import hashlib
import http.client
import itertools
import json
import os
import re
import struct
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone


# --------------------------------------------------------------- config

def read_config(path):
    """key = value lines as `ragbatch check` prints them."""
    cfg = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.]+) = (.*)$", line.rstrip("\n"))
            if m:
                cfg[m.group(1)] = m.group(2)
    for key in ("source.topics", "kafka.bootstrap.servers", "text.template", "mongo.uri",
                "mongo.database", "mongo.collection"):
        if not cfg.get(key):
            sys.exit(f"product_job: {path}: {key} is missing")
    return cfg


def as_list(v):
    return [x.strip() for x in (v or "").split(",") if x.strip()]


# ---------------------------------------------------- schema -> Spark SQL

IGNORED = {"$schema", "$id", "$comment", "title", "description", "default", "examples"}
RFC3339 = (r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def spark_type(s, T, where):
    t = s.get("type")
    if t == "string":
        return T.StringType()
    if t == "integer":
        return T.LongType()
    if t == "number":
        return T.DoubleType()
    if t == "boolean":
        return T.BooleanType()
    if t == "array":
        return T.ArrayType(spark_type(s.get("items", {"type": "string"}), T, where + "/items"))
    if t == "object":
        if "properties" in s:
            return T.StructType([T.StructField(k, spark_type(v, T, f"{where}/{k}"))
                                 for k, v in s["properties"].items()])
        ap = s.get("additionalProperties", {"type": "string"})
        return T.MapType(T.StringType(), spark_type(ap, T, where + "/additionalProperties"))
    sys.exit(f"product_job: schema {where}: type {t!r} has no Spark equivalent here")


def value_checks(s, c, F, where):
    """Predicates (Columns) a non-null value `c` of schema `s` must meet."""
    out = []
    for kw, v in s.items():
        if kw in IGNORED or kw in ("type", "properties", "required", "additionalProperties",
                                   "if", "then", "else"):
            continue
        if kw == "enum":
            out.append(c.isin(v))
        elif kw == "const":
            out.append(c == F.lit(v))
        elif kw == "minLength":
            out.append(F.char_length(c) >= v)
        elif kw == "maxLength":
            out.append(F.char_length(c) <= v)
        elif kw == "pattern":
            out.append(c.rlike(v))  # find semantics, as JSON Schema's pattern
        elif kw == "format":
            if v == "date-time":
                out.append(c.rlike(RFC3339) & F.to_timestamp(c).isNotNull())
            # other formats are annotations, as in ragbatch's validator
        elif kw == "minimum":
            out.append(c >= v)
        elif kw == "maximum":
            out.append(c <= v)
        elif kw == "minItems":
            out.append(F.size(c) >= v)
        elif kw == "maxItems":
            out.append(F.size(c) <= v)
        elif kw == "items":
            inner = object_checks_for_lambda(v, F, where + "/items")
            if inner:
                out.append(F.forall(c, inner))
        else:
            sys.exit(f"product_job: schema {where}: keyword {kw!r} is not translated")
    if s.get("type") == "object" and "properties" in s:
        if s.get("additionalProperties") is False:
            sys.exit(f"product_job: schema {where}: additionalProperties false is translated "
                     "at the top level only")
        out.extend(object_checks(s, c, F, where))
    elif s.get("type") == "object" and isinstance(s.get("additionalProperties"), dict):
        inner = object_checks_for_lambda(s["additionalProperties"], F, where)
        if inner:
            out.append(F.forall(F.map_values(c), inner))
    return out


def object_checks_for_lambda(s, F, where):
    def pred(x):
        checks = value_checks(s, x, F, where)
        cond = F.lit(True)
        for p in checks:
            cond = cond & p
        return x.isNull() | cond
    return pred if value_checks_nonempty(s) else None


def value_checks_nonempty(s):
    return any(k not in IGNORED and k != "type" for k in s)


def object_checks(s, c, F, where, raw_keys=None):
    """Checks of an object schema on struct column `c`."""
    out = []
    props = s.get("properties", {})
    for k in s.get("required", []):
        out.append(c[k].isNotNull())
    for k, ps in props.items():
        for p in value_checks(ps, c[k], F, f"{where}/{k}"):
            out.append(c[k].isNull() | p)
    if s.get("additionalProperties") is False and raw_keys is not None:
        allowed = F.array(*[F.lit(k) for k in props])
        out.append(F.forall(raw_keys, lambda k: F.array_contains(allowed, k)))
    if "if" in s:
        cond_if = all_of(object_checks(s["if"], c, F, where + "/if"), F)
        then = all_of(object_checks(s.get("then", {}), c, F, where + "/then"), F)
        other = all_of(object_checks(s.get("else", {}), c, F, where + "/else"), F)
        out.append(F.when(cond_if, then).otherwise(other))
    return out


def all_of(preds, F):
    cond = F.lit(True)
    for p in preds:
        cond = cond & F.coalesce(p, F.lit(False))
    return cond


# ---------------------------------------------------- template -> Spark SQL

def parse_template(text):
    """rb_template's syntax: list of parts, sections as nested lists."""
    parts, stack, lit, i = [], None, [], 0
    cur = parts

    def flush():
        if lit:
            cur.append(("text", "".join(lit)))
            lit.clear()
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}[]\\":
            lit.append(text[i + 1])
            i += 2
        elif ch == "{":
            j = text.index("}", i)
            name = text[i + 1:j]
            flush()
            cur.append(("field", name.rstrip("?"), name.endswith("?")))
            i = j + 1
        elif text.startswith("[[", i):
            flush()
            stack = []
            cur.append(("section", stack))
            cur = stack
            i += 2
        elif text.startswith("]]", i):
            flush()
            cur = parts
            i += 2
        else:
            lit.append(ch)
            i += 1
    flush()
    return parts


def template_fields(parts):
    for p in parts:
        if p[0] == "field":
            yield p
        elif p[0] == "section":
            yield from template_fields(p[1])


def render_value(c, dtype, F, T):
    """A field as ragbatch renders it; NULL renders as nothing."""
    if isinstance(dtype, T.ArrayType):
        items = F.transform(c, lambda x: render_value(x, dtype.elementType, F, T))
        return F.array_join(F.filter(items, lambda x: F.length(x) > 0), ", ")
    if isinstance(dtype, T.MapType):
        pairs = F.transform(F.map_entries(c), lambda e: F.concat(
            e["key"], F.lit(": "), render_value(e["value"], dtype.valueType, F, T)))
        return F.array_join(pairs, ", ")
    if isinstance(dtype, T.BooleanType):
        return F.when(c, F.lit("true")).when(~c, F.lit("false"))
    return c.cast("string")


def template_column(parts, event, types, F, T):
    def field_col(name):
        col = event
        dtype = T.StructType(types)
        for seg in name.split("."):
            col = col[seg]
            dtype = {f.name: f.dataType for f in dtype.fields}[seg]
        return F.coalesce(render_value(col, dtype, F, T), F.lit(""))

    def concat(ps):
        cols = []
        for p in ps:
            if p[0] == "text":
                cols.append(F.lit(p[1]))
            elif p[0] == "field":
                cols.append(field_col(p[1]))
            else:
                inner = concat(p[1])
                present = F.lit(True)
                for f in template_fields(p[1]):
                    if f[2]:
                        present = present & (F.trim(field_col(f[1])) != "")
                cols.append(F.when(present, inner).otherwise(F.lit("")))
        return F.concat(*cols) if cols else F.lit("")

    folded = F.regexp_replace(concat(parts), r"[ \t\r\n\f\x0B]+", " ")
    return F.trim(folded)


# ------------------------------------------------------------- embedding

class HttpEmbedder:
    """OpenAI-compatible POST /v1/embeddings, keep-alive connection per
    thread, `concurrency` requests in flight."""

    def __init__(self, url, model, dim, batch, concurrency):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        path = u.path.rstrip("/")
        self.path = path + ("/embeddings" if path.endswith("/v1") else "/v1/embeddings")
        self.model, self.dim, self.batch = model, dim, batch
        self.pool = ThreadPoolExecutor(max_workers=concurrency)
        self.local = threading.local()

    def _post(self, texts):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        body = {"input": texts, "model": self.model}
        if self.dim:
            body["dimensions"] = self.dim
        conn.request("POST", self.path, json.dumps(body),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"embeddings server answered {r.status}: {data[:200]!r}")
        out = json.loads(data)["data"]
        out.sort(key=lambda d: d["index"])
        return [d["embedding"] for d in out]

    def embed(self, texts):
        chunks = [texts[i:i + self.batch] for i in range(0, len(texts), self.batch)]
        vecs = []
        for part in self.pool.map(self._post, chunks):
            vecs.extend(part)
        return vecs


class ModelEmbedder:
    def __init__(self, model_dir, batch, threads):
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(threads)
        self.m = SentenceTransformer(model_dir, device="cpu")
        self.batch = batch

    def embed(self, texts):
        v = self.m.encode(texts, batch_size=self.batch, convert_to_numpy=True,
                          normalize_embeddings=True, show_progress_bar=False)
        return [row.tolist() for row in v]


# One embedder and one MongoDB client per Python worker (workers are reused
# across tasks: spark.python.worker.reuse is on by default).
_WORKER = {}


def worker_state(opts):
    if "mongo" not in _WORKER:
        import pymongo
        _WORKER["mongo"] = pymongo.MongoClient(opts["uri"], serverSelectionTimeoutMS=10000)
        info = _WORKER["mongo"].admin.command("buildInfo")
        # FerretDB 1.x stops an unordered bulk at its first error; the writer
        # then resumes after it (ragbatch's sink copes with the same).
        _WORKER["ferretdb"] = "ferretdbVersion" in info
    if "embedder" not in _WORKER:
        if opts["embed"] == "http":
            _WORKER["embedder"] = HttpEmbedder(opts["url"], opts["model"], opts["dim"],
                                               opts["batch"], opts["concurrency"])
        else:
            _WORKER["embedder"] = ModelEmbedder(opts["model_dir"], opts["batch"],
                                                opts["torch_threads"])
    return _WORKER["mongo"], _WORKER["embedder"], _WORKER["ferretdb"]


def vector_value(vec, fmt):
    from bson.binary import Binary
    if fmt == "float32":
        return Binary(b"\x27\x00" + struct.pack(f"<{len(vec)}f", *vec), 9)
    return [float(x) for x in vec]


def write_partition(rows, opts, acc):
    """Writes one partition in chunks of opts["chunk"] rows (lookup, embed,
    bulk write per chunk), so that a worker holds one chunk's vectors at a
    time however large the availableNow batch is."""
    rows = iter(rows)
    while True:
        chunk = list(itertools.islice(rows, opts["chunk"]))
        if not chunk:
            return
        write_chunk(chunk, opts, acc)


def write_chunk(rows, opts, acc):
    from bson.datetime_ms import DatetimeMS
    from bson.int64 import Int64
    from pymongo import ReplaceOne
    from pymongo.errors import BulkWriteError

    client, embedder, ferretdb = worker_state(opts)
    coll = client[opts["database"]][opts["collection"]]
    counts = {"invalid": 0, "stale": 0, "stored": 0, "deleted": 0, "reused": 0, "embedded": 0}
    keep = []
    for r in rows:
        counts["invalid"] += r["invalid"]
        if r["doc"] is None:
            continue
        counts["stale"] += r["n"] - r["invalid"] - 1  # older versions in this batch
        keep.append(r["doc"])

    upserts = [d for d in keep if not d["deleted"]]
    hashes = {d["id"]: hashlib.sha256(d["text"].encode("utf-8")).hexdigest() for d in upserts}
    # One read by _id serves both lookups that need one: the stored vector
    # for reuse, and (versions = lookup) the stored version.
    lookup_versions = opts["versions"] == "lookup" or (opts["versions"] == "auto" and ferretdb)
    stored = {}
    wanted = keep if lookup_versions else (upserts if opts["reuse"] else [])
    if wanted:
        proj = {"version": 1, "deleted": 1}
        if opts["reuse"]:
            proj.update(text_hash=1, model=1, embedding=1)
        ids = [d["id"] for d in wanted]
        for i in range(0, len(ids), 1000):
            for s in coll.find({"_id": {"$in": ids[i:i + 1000]}}, proj):
                stored[s["_id"]] = s
    if lookup_versions:
        fresh = []
        for d in keep:
            sv = stored.get(d["id"], {}).get("version")
            if sv is not None and sv >= d["version"]:
                counts["stale"] += 1
            else:
                fresh.append(d)
        keep = fresh
        upserts = [d for d in keep if not d["deleted"]]
    vectors, todo = {}, []
    for d in upserts:
        s = stored.get(d["id"]) if opts["reuse"] else None
        if (s and not s.get("deleted") and s.get("text_hash") == hashes[d["id"]]
                and s.get("model") == opts["model_name"]):
            vectors[d["id"]] = s["embedding"]
            counts["reused"] += 1
        else:
            todo.append(d)
    if todo:
        for d, v in zip(todo, embedder.embed([d["text"] for d in todo])):
            vectors[d["id"]] = vector_value(v, opts["vector_format"])
        counts["embedded"] += len(todo)

    now = datetime.now(timezone.utc)
    ops = []
    for d in keep:
        doc = {"_id": d["id"]}
        if not d["deleted"]:
            doc.update(text=d["text"], embedding=vectors[d["id"]], text_hash=hashes[d["id"]],
                       model=opts["model_name"], metadata=d["metadata"].asDict(recursive=True))
        doc.update(version=Int64(d["version"]), event_time=DatetimeMS(d["event_time_ms"]),
                   source={"topic": d["topic"], "partition": d["partition"],
                           "offset": Int64(d["offset"])},
                   ingested_at=now, deleted=bool(d["deleted"]))
        flt = {"_id": d["id"]}
        if not lookup_versions:
            flt["version"] = {"$lt": Int64(d["version"])}
        ops.append(ReplaceOne(flt, doc, upsert=True))
    done = [False] * len(ops)
    start = 0
    while start < len(ops):
        batch = ops[start:]
        try:
            coll.bulk_write(batch, ordered=False)
            for i in range(start, len(ops)):
                done[i] = True
            break
        except BulkWriteError as e:
            errs = e.details.get("writeErrors", [])
            bad = [x for x in errs if x.get("code") != 11000]
            if bad:
                raise RuntimeError(f"bulk write failed: {bad[0]}") from None
            for x in errs:
                counts["stale"] += 1
                done[start + x["index"]] = None  # stale
            last = max(x["index"] for x in errs) + start
            for i in range(start, last + 1):
                if done[i] is False:
                    done[i] = True
            if not ferretdb:
                for i in range(last + 1, len(ops)):
                    done[i] = True
                break
            start = last + 1
    for d, ok in zip(keep, done):
        if ok:
            counts["deleted" if d["deleted"] else "stored"] += 1
    acc.add(counts)


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="`ragbatch check` output of the job")
    ap.add_argument("--checkpoint", required=True, help="checkpoint directory (new per run)")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--embed", choices=("http", "model"), default=None,
                    help="default: http if embed.provider is openai, else model")
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="PyTorch threads per Python worker (0: cores / shuffle partitions)")
    ap.add_argument("--summary", help="also write the summary line to this file")
    ap.add_argument("--mongo-uri", help="MongoDB URI (`ragbatch check` masks mongo.uri)")
    ap.add_argument("--versions", choices=("auto", "filter", "lookup"), default="auto",
                    help="filter: the version check in the replace's filter (atomic); lookup: "
                    "read the stored versions by _id first and replace by _id only what is "
                    "newer; auto: lookup on FerretDB, else filter")
    a = ap.parse_args()
    cfg = read_config(a.config)
    if a.mongo_uri:
        cfg["mongo.uri"] = a.mongo_uri
    if cfg["mongo.uri"] == "(secret)":
        sys.exit("product_job: mongo.uri is masked in the config; pass --mongo-uri")

    from pyspark.accumulators import AccumulatorParam
    from pyspark.sql import SparkSession, functions as F, types as T

    class DictSum(AccumulatorParam):
        def zero(self, v):
            return {k: 0 for k in v}

        def addInPlace(self, x, y):
            for k, v in y.items():
                x[k] = x.get(k, 0) + v
            return x

    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    shuffle = int(spark.conf.get("spark.sql.shuffle.partitions"))

    schema = {"type": "object", "properties": {}}
    if cfg.get("schema.file"):
        with open(cfg["schema.file"], encoding="utf-8") as f:
            schema = json.load(f)
    idf, verf = cfg["document.id.field"], cfg["document.version.field"]
    timef, opf = cfg["document.time.field"], cfg["document.op.field"]
    deletes = as_list(cfg.get("document.delete.values", "deleted"))
    meta_fields = as_list(cfg.get("metadata.fields"))
    parts = parse_template(cfg["text.template"])
    event_type = spark_type(schema, T, "")
    for name in [idf, verf, timef, opf] + meta_fields + [f[1].split(".")[0]
                                                           for f in template_fields(parts)]:
        if name not in event_type.names:
            sys.exit(f"product_job: field {name!r} is not a property of the schema")
    with_corrupt = T.StructType(event_type.fields + [T.StructField("_corrupt", T.StringType())])

    provider = cfg.get("embed.provider", "local")
    mode = a.embed or ("http" if provider == "openai" else "model")
    model_dir = cfg.get("embed.model.dir", "")
    opts = {
        "uri": cfg["mongo.uri"], "database": cfg["mongo.database"],
        "collection": cfg["mongo.collection"], "embed": mode, "url": cfg.get("embed.url", ""),
        "model": cfg.get("embed.model", ""), "dim": int(cfg.get("embed.dimensions", "0") or 0),
        "batch": int(cfg.get("embed.batch.size", "32")),
        "concurrency": int(cfg.get("embed.concurrency", "4")),
        "model_dir": os.path.abspath(model_dir) if model_dir else "",
        "model_name": cfg.get("embed.model", "") if mode == "http"
        else os.path.basename(os.path.normpath(model_dir)),
        "torch_threads": a.torch_threads or max(1, a.cores // max(1, shuffle)),
        "reuse": cfg.get("embed.reuse.unchanged", "true") == "true",
        "vector_format": cfg.get("mongo.vector.format", "array"),
        "versions": a.versions,
        # rows per lookup / embed / bulk write in the writer: ragbatch's batch size
        "chunk": int(cfg.get("batch.max.records", "1000")),
    }
    zero = {"invalid": 0, "stale": 0, "stored": 0, "deleted": 0, "reused": 0, "embedded": 0}
    acc = spark.sparkContext.accumulator(dict(zero), DictSum())
    batches = []

    def process(batch_df, batch_id):
        t0 = time.monotonic()
        value = F.col("value").cast("string")
        e = F.from_json(value, with_corrupt,
                        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"})
        df = batch_df.select("topic", "partition", "offset", value.alias("value"),
                             e.alias("e"), F.json_object_keys(value).alias("keys"))
        ev = F.col("e")
        checks = [F.col("value").isNotNull(), ev["_corrupt"].isNull(), F.col("keys").isNotNull()]
        checks += object_checks(schema, ev, F, "", raw_keys=F.col("keys"))
        deleted = ev[opf].isin(deletes)
        for f in template_fields(parts):
            if not f[2]:
                checks.append(deleted | F.col("e").getField(f[1].split(".")[0]).isNotNull())
        ms = F.unix_millis(F.to_timestamp(ev[timef]))
        doc = F.struct(
            ev[idf].cast("string").alias("id"),
            F.coalesce(ev[verf], ms).alias("version"), ms.alias("event_time_ms"),
            deleted.alias("deleted"),
            F.when(~deleted, template_column(parts, ev, event_type.fields, F, T)).alias("text"),
            F.struct(*[ev[m].alias(m) for m in meta_fields]).alias("metadata"),
            "topic", "partition", "offset")
        valid = all_of(checks, F)
        rows = df.select(valid.alias("ok"), F.when(valid, doc).alias("doc"),
                         F.when(valid, ev[idf].cast("string")).alias("gid"))
        newest = rows.groupBy("gid").agg(
            F.max_by("doc", F.when(F.col("ok"), F.struct(F.col("doc.version"),
                                                         F.col("doc.partition"),
                                                         F.col("doc.offset")))).alias("doc"),
            F.count(F.lit(1)).alias("n"),
            F.sum(F.when(F.col("ok"), 0).otherwise(1)).alias("invalid"))
        o = opts
        newest.foreachPartition(lambda it: write_partition(it, o, acc))
        batches.append({"batch": batch_id, "s": round(time.monotonic() - t0, 3)})

    # Warm the Python workers before the clock starts, as ragbatch loads its
    # model before its start line: each loads the embedder and connects
    # (spark.python.worker.reuse keeps them for the query's tasks).
    o = opts
    spark.sparkContext.parallelize(range(a.cores), a.cores).foreachPartition(
        lambda it: worker_state(o) and None)

    reader = (spark.readStream.format("kafka")
              .option("kafka.bootstrap.servers", cfg["kafka.bootstrap.servers"])
              .option("subscribe", cfg["source.topics"])
              .option("startingOffsets", "earliest")
              .option("failOnDataLoss", "true")
              .load())
    t0 = time.monotonic()
    q = (reader.writeStream.foreachBatch(process).trigger(availableNow=True)
         .option("checkpointLocation", a.checkpoint).start())
    q.awaitTermination()
    query_s = time.monotonic() - t0
    n_in = sum(p.get("numInputRows", 0) for p in q.recentProgress)
    c = acc.value
    summary = {"engine": "pyspark", "spark": spark.version, "embed": mode, "cores": a.cores,
               "versions": a.versions, "reuse": opts["reuse"],
               "shuffle_partitions": shuffle, "batches": len(batches), "in": n_in,
               "query_s": round(query_s, 3),
               "records_per_s": round(n_in / query_s, 1) if query_s > 0 else 0, **c,
               "batch_s": [b["s"] for b in batches]}
    line = json.dumps(summary)
    print(line, flush=True)
    if a.summary:
        with open(a.summary, "w", encoding="utf-8") as f:
            f.write(line + "\n")
    spark.stop()


if __name__ == "__main__":
    main()
