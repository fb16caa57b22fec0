#!/usr/bin/env python3
"""Writes 1,000 synthetic product texts (deterministic: fixed seed), one per
line, to the path given -- the benchmark corpus of bench/embed/run.sh.  An
optional second argument asks for another count (the first 1,000 are the
same whatever the count)."""
import random
import sys

rng = random.Random(42)
brands = ["Acme", "Nordlys", "Kobalt", "Verdant", "Soleil", "Hikari", "Brava", "Tundra", "Orca", "Lumen"]
items = ["running shoes", "water bottle", "wireless headphones", "office chair", "yoga mat",
         "espresso machine", "rain jacket", "cast-iron skillet", "backpack", "desk lamp",
         "smartwatch", "coffee grinder", "sleeping bag", "electric toothbrush", "gaming mouse"]
adjs = ["lightweight", "insulated", "ergonomic", "waterproof", "organic", "stainless steel",
        "noise-cancelling", "eco-friendly", "compact", "premium", "heavy-duty", "breathable"]
feats = ["30-hour battery life", "USB-C fast charging", "machine washable", "dishwasher safe",
         "5-year warranty", "adjustable straps", "non-slip base", "recycled materials",
         "keeps drinks cold for 24 hours", "memory foam cushioning", "built-in LED light",
         "fits 15-inch laptops", "silent motor", "reflective details", "detachable hood"]
colors = ["black", "navy", "olive", "heather grey", "sand", "crimson", "white", "teal"]

out = open(sys.argv[1], "w", encoding="utf-8")
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1000):
    n_feats = rng.choice([1, 2, 3, 4, 6, 8])
    text = "%s %s %s in %s. " % (rng.choice(brands), rng.choice(adjs), rng.choice(items), rng.choice(colors))
    text += "Features: " + ", ".join(rng.sample(feats, min(n_feats, len(feats)))) + ". "
    if rng.random() < 0.3:
        text += "Customers say: " + " ".join(rng.choice(adjs) + " and " + rng.choice(adjs) for _ in range(rng.randint(1, 6))) + "."
    text += " SKU %s-%04d, price $%d.%02d." % (rng.choice(brands)[:3].upper(), i, rng.randint(5, 400), rng.randint(0, 99))
    out.write(text + "\n")
out.close()
