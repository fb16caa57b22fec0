#!/usr/bin/env python3
"""Writes kubeconform schemas from a Kubernetes swagger.json, offline.

kubeconform normally fetches its JSON schemas from GitHub at run time; the
Kubernetes OpenAPI document itself ships in the k8s.io/kubernetes Go module
(api/openapi-spec/swagger.json), which the Go module proxy serves.  This
turns that document into one standalone schema per kind, named as
kubeconform's default location expects ({kind}-{group}-{version}.json,
{kind}-{version}.json for the core group), with the same strictness as
`kubectl --validate`: objects reject properties the API does not define.

Usage: k8s-schemas.py SWAGGER_JSON OUT_DIR
"""
import json
import os
import sys


def strict(node):
    """Rejects unknown fields, maps int-or-string, recursively (in place)."""
    if isinstance(node, dict):
        if node.get("format") == "int-or-string":
            node.pop("format")
            node.pop("type", None)
            node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            strict(v)
    elif isinstance(node, list):
        for v in node:
            strict(v)


def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/definitions/"):
            out.add(r[len("#/definitions/"):])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def closure(defs, name):
    seen, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in seen or n not in defs:
            continue
        seen.add(n)
        found = set()
        refs(defs[n], found)
        todo.extend(found - seen)
    return seen


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        defs = json.load(f)["definitions"]
    for d in defs.values():
        strict(d)
    os.makedirs(sys.argv[2], exist_ok=True)
    written = 0
    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            group = gvk["group"].split(".")[0]
            kind, version = gvk["kind"].lower(), gvk["version"]
            fname = f"{kind}-{group}-{version}.json" if group else f"{kind}-{version}.json"
            schema = dict(d)
            schema["$schema"] = "http://json-schema.org/schema#"
            schema["definitions"] = {n: defs[n] for n in sorted(closure(defs, name))}
            # apiVersion and kind must name this kind exactly.
            props = dict(schema.get("properties", {}))
            api = f"{gvk['group']}/{version}" if gvk["group"] else version
            props["apiVersion"] = {"type": "string", "enum": [api]}
            props["kind"] = {"type": "string", "enum": [gvk["kind"]]}
            schema["properties"] = props
            with open(os.path.join(sys.argv[2], fname), "w", encoding="utf-8") as f:
                json.dump(schema, f, separators=(",", ":"))
            written += 1
    print(f"k8s-schemas: {written} schemas in {sys.argv[2]}")


if __name__ == "__main__":
    main()
