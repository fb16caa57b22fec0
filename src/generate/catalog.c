#include "generate/catalog.h"

#include <string.h>

/* A counted list of strings; LIST() builds one from literals. */
typedef struct word_list {
    const char *const *v;
    size_t n;
} word_list;

#define LIST(...)                                                                                 \
    {                                                                                             \
        (const char *const[]){__VA_ARGS__},                                                       \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)                     \
    }

/* One kind of product within a category: the noun and what only fits it
 * (a chef's knife has a blade, not a 15-bar pump). */
typedef struct kind {
    const char *noun;
    word_list materials;
    word_list features; /* noun phrases that read after "with" */
    const char *attr_key;
    word_list attr_values;
} kind;

/* A category: its kinds, plus features, uses, tags and care that fit every
 * kind in it.  Uses read after "designed for". */
typedef struct category {
    const char *name;
    const kind *kinds;
    size_t n_kinds;
    word_list features;
    word_list uses;
    word_list tags;
    word_list care;
    int price_min; /* US dollars */
    int price_max;
} category;

#define KINDS(...) (const kind[]){__VA_ARGS__}, sizeof((const kind[]){__VA_ARGS__}) / sizeof(kind)

#define SHOE_SIZES LIST("EU 38", "EU 40", "EU 42", "EU 44", "EU 46", "US 9", "US 10.5")
#define CLOTHING_SIZES LIST("XS", "S", "M", "L", "XL", "XXL")

static const category categories[] = {
    {"footwear",
     KINDS({"hiking boots", LIST("full-grain leather", "waterproof nubuck", "suede"),
            LIST("a Vibram outsole that grips wet rock",
                 "a waterproof membrane that still breathes", "a stiff shank for rocky descents"),
            "size", SHOE_SIZES},
           {"trail running shoes", LIST("recycled mesh", "ripstop mesh", "engineered knit"),
            LIST("a rock plate under the forefoot", "aggressive 5 mm lugs for mud",
                 "a cushioned midsole that softens long descents"),
            "size", SHOE_SIZES},
           {"leather sneakers", LIST("calf leather", "suede", "vegan leather"),
            LIST("a cupsole stitched so it can be resoled", "a cushioned footbed",
                 "a clean silhouette that goes with jeans or chinos"),
            "size", SHOE_SIZES},
           {"rain boots", LIST("natural rubber", "recycled rubber", "neoprene-lined rubber"),
            LIST("a pull tab for easy on and off", "a fleece lining for cold days",
                 "a seamless fully waterproof shell"),
            "size", SHOE_SIZES},
           {"sandals", LIST("leather", "recycled webbing", "cork"),
            LIST("a contoured cork footbed", "adjustable straps", "a quick-drying sole"), "size",
            SHOE_SIZES}),
     LIST("a padded collar that stops heel rub", "a removable insole", "a lightweight build"),
     LIST("day hikes", "wet city commutes", "long walks on gravel paths", "weekend trail runs",
          "muddy autumn trails", "travel days on your feet", "summer holidays"),
     LIST("waterproof", "hiking", "running", "comfort", "outdoor", "everyday", "lightweight",
          "all-weather"),
     LIST("brush off dried mud and air dry away from heaters",
          "wipe with a damp cloth and stuff with paper to dry"),
     35, 260},
    {"outdoor",
     KINDS({"two-person tent", LIST("ripstop nylon", "silnylon", "recycled polyester"),
            LIST("colour-coded poles that pitch in minutes", "two doors and two vestibules",
                 "a packed weight of under two kilograms"),
            "capacity", LIST("2 persons", "2 persons plus gear")},
           {"down sleeping bag",
            LIST("responsibly sourced down", "recycled polyester", "ripstop nylon"),
            LIST("a comfort rating of minus five degrees", "a draught collar that traps warmth",
                 "a compression sack that fits in any daypack"),
            "temperature rating", LIST("-5 °C", "0 °C", "-10 °C")},
           {"camping stove", LIST("titanium", "stainless steel", "aluminium"),
            LIST("wind-resistant flame control", "a piezo igniter",
                 "a pot support that holds wide pans"),
            "fuel", LIST("butane-propane", "multi-fuel", "alcohol")},
           {"headlamp", LIST("aluminium", "recycled plastic", "polycarbonate"),
            LIST("a rechargeable battery that lasts three nights",
                 "a red light mode that keeps your night vision", "a beam that reaches 100 metres"),
            "brightness", LIST("350 lumen", "500 lumen", "900 lumen")},
           {"trekking poles", LIST("carbon fibre", "aluminium", "carbon and cork"),
            LIST("cork grips that stay dry", "flick locks that adjust with gloves on",
                 "a folding design for travel"),
            "length", LIST("100-125 cm", "110-135 cm", "120 cm folding")}),
     LIST("a lifetime repair guarantee", "a stuff sack with a carry loop", "a low packed weight"),
     LIST("backpacking trips", "summer festivals", "alpine camping", "overnight canoe trips",
          "family campsites", "bikepacking routes", "emergency kits"),
     LIST("camping", "backpacking", "ultralight", "outdoor", "hiking", "survival", "festival"),
     LIST("dry it fully before storing", "rinse with fresh water after coastal trips",
          "store loosely in a cool dry place"),
     20, 480},
    {"kitchen",
     KINDS({"chef's knife", LIST("Damascus steel", "stainless steel", "carbon steel"),
            LIST("a blade honed to 15 degrees",
                 "a full-tang handle balanced for long prep sessions",
                 "a granton edge that stops food from sticking"),
            "blade length", LIST("18 cm", "20 cm", "21 cm", "24 cm")},
           {"cast iron skillet", LIST("cast iron", "enamelled cast iron", "pre-seasoned cast iron"),
            LIST("even heat from edge to centre", "a helper handle for lifting",
                 "a surface that improves with every use"),
            "diameter", LIST("20 cm", "26 cm", "30 cm")},
           {"dutch oven", LIST("enamelled cast iron", "cast iron", "ceramic-coated steel"),
            LIST("a tight lid that locks in steam", "an induction-ready base",
                 "handles wide enough for oven gloves"),
            "capacity", LIST("3.8 l", "4.7 l", "6.7 l")},
           {"espresso machine", LIST("brushed stainless steel", "aluminium", "matte black steel"),
            LIST("a 15-bar pump for proper crema", "a steam wand for silky milk",
                 "a heat-up time of thirty seconds"),
            "water tank", LIST("1.2 l", "1.8 l", "2 l")},
           {"pour-over kettle",
            LIST("stainless steel", "matte black steel", "copper-finished steel"),
            LIST("a gooseneck spout for a slow steady pour", "temperature control to the degree",
                 "a keep-warm mode"),
            "capacity", LIST("0.9 l", "1 l", "1.2 l")}),
     LIST("a design that looks good on open shelves", "a finish that resists stains",
          "plastic-free packaging"),
     LIST("weeknight dinners", "slow Sunday braises", "morning coffee rituals",
          "baking bread at home", "meal prep", "searing steaks", "small apartment kitchens"),
     LIST("cookware", "kitchen", "cooking", "coffee", "baking", "chef", "gift"),
     LIST("hand wash and dry straight away", "avoid abrasive scourers"), 15, 650},
    {"audio",
     KINDS({"wireless headphones", LIST("aluminium", "recycled plastic", "protein leather"),
            LIST("active noise cancelling that quiets trains and planes",
                 "30 hours of battery life", "multipoint pairing with a laptop and a phone"),
            "connectivity", LIST("Bluetooth 5.3", "Bluetooth 5.2 and USB-C audio")},
           {"bluetooth speaker", LIST("fabric-wrapped", "rubberised polymer", "aluminium"),
            LIST("an IP67 rating against rain and dust", "360-degree sound",
                 "a strap for hanging it from a branch"),
            "battery life", LIST("12 hours", "20 hours", "24 hours")},
           {"noise-cancelling earbuds", LIST("matte polymer", "recycled plastic", "ceramic-finish"),
            LIST("a transparency mode for conversations",
                 "a charging case that fits a coin pocket", "silicone tips in four sizes"),
            "battery life", LIST("6 + 24 hours", "8 + 32 hours")},
           {"turntable", LIST("walnut veneer", "acrylic", "high-gloss MDF"),
            LIST("a built-in phono preamp", "a belt drive that keeps the speed steady",
                 "a pre-mounted cartridge"),
            "speeds", LIST("33 and 45 rpm", "33, 45 and 78 rpm")},
           {"soundbar", LIST("fabric-wrapped", "brushed aluminium", "matte polymer"),
            LIST("a clear dialogue mode for late-night films", "Dolby Atmos up-firing drivers",
                 "HDMI eARC that works with the TV remote"),
            "connectivity", LIST("HDMI eARC", "Wi-Fi and Bluetooth", "optical and HDMI")}),
     LIST("a warm balanced sound signature", "a clean understated design"),
     LIST("long-haul flights", "open-plan offices", "beach afternoons", "vinyl evenings",
          "home cinema nights", "podcast editing", "daily commutes"),
     LIST("audio", "wireless", "bluetooth", "music", "noise-cancelling", "hi-fi", "portable"),
     LIST("wipe with a dry microfibre cloth", "keep the firmware up to date"), 25, 900},
    {"furniture",
     KINDS({"oak dining table", LIST("solid oak", "white-oiled oak", "smoked oak"),
            LIST("seats for six with room to spare", "a hand-oiled finish that ages well",
                 "legs set in so chairs tuck under"),
            "dimensions", LIST("160 x 90 cm", "180 x 90 cm", "200 x 100 cm")},
           {"reading armchair", LIST("velvet", "bouclé", "wool blend"),
            LIST("a high back that supports the head", "deep cushions with pocket springs",
                 "removable washable covers"),
            "seat height", LIST("42 cm", "45 cm")},
           {"floating bookshelf", LIST("walnut", "powder-coated steel", "recycled pine"),
            LIST("hidden wall brackets", "a shelf that holds 25 kg",
                 "a lip that stops books from sliding"),
            "width", LIST("60 cm", "80 cm", "120 cm")},
           {"standing desk", LIST("bamboo", "oak veneer", "linoleum"),
            LIST("a quiet dual motor that lifts to standing height", "four memory presets",
                 "a cable tray under the top"),
            "height range", LIST("62-127 cm", "70-120 cm")},
           {"café table", LIST("marble", "powder-coated steel", "teak"),
            LIST("a small round top for two", "adjustable feet for uneven floors",
                 "a frame that can live outdoors"),
            "diameter", LIST("60 cm", "70 cm")}),
     LIST("tool-free assembly in under twenty minutes", "rounded edges for homes with children"),
     LIST("small apartments", "home offices", "family dinners", "quiet reading corners",
          "guest rooms", "studio flats", "long working days"),
     LIST("furniture", "home", "living room", "home office", "scandinavian", "sustainable"),
     LIST("dust with a soft dry cloth", "keep out of direct sunlight to avoid fading"), 60, 1800},
    {"outerwear",
     KINDS({"rain jacket", LIST("recycled nylon", "three-layer shell fabric", "Gore-Tex"),
            LIST("taped seams that keep out driving rain", "an adjustable storm hood",
                 "pit zips for venting on climbs"),
            "size", CLOTHING_SIZES},
           {"down parka", LIST("responsible down", "recycled polyester", "water-repellent nylon"),
            LIST("a fur-free insulated hood", "warmth rated for minus twenty",
                 "a two-way front zip"),
            "size", CLOTHING_SIZES},
           {"fleece pullover", LIST("polar fleece", "recycled fleece", "grid fleece"),
            LIST("a half zip for venting", "a kangaroo pocket", "a soft brushed inside"), "size",
            CLOTHING_SIZES},
           {"wool coat", LIST("merino wool", "wool and cashmere", "boiled wool"),
            LIST("a tailored fit over a suit", "a fully lined body", "horn buttons"), "size",
            CLOTHING_SIZES},
           {"softshell jacket",
            LIST("stretch softshell", "recycled polyamide", "brushed-back softshell"),
            LIST("four-way stretch for climbing", "a wind-resistant face fabric",
                 "a helmet-compatible hood"),
            "size", CLOTHING_SIZES}),
     LIST("reflective details for dark evenings", "zipped hand pockets"),
     LIST("rainy commutes", "winter city walks", "ski weekends", "autumn hikes",
          "cold football sidelines", "coastal walks", "travel in changeable weather"),
     LIST("jacket", "waterproof", "winter", "outdoor", "rainwear", "warm", "packable"),
     LIST("machine wash cold and tumble dry low", "re-proof with a spray after heavy use"), 40,
     520},
    {"fitness",
     KINDS({"yoga mat", LIST("natural rubber", "cork", "TPE foam"),
            LIST("a non-slip surface that grips even when sweaty", "alignment markings",
                 "a carry strap"),
            "thickness", LIST("4 mm", "5 mm", "6 mm")},
           {"adjustable dumbbells", LIST("cast iron", "steel", "rubber-coated steel"),
            LIST("weight that adjusts in seconds with a dial",
                 "a stand that keeps them off the floor", "knurled handles"),
            "weight range", LIST("2-24 kg", "5-32 kg")},
           {"resistance bands", LIST("natural latex", "fabric-covered latex", "TPE"),
            LIST("five colour-coded strengths", "a door anchor and handles", "a mesh carry bag"),
            "resistance", LIST("5-50 kg", "light to extra heavy")},
           {"indoor cycling bike", LIST("steel", "aluminium", "powder-coated steel"),
            LIST("a quiet magnetic resistance system", "a tablet holder", "transport wheels"),
            "max user weight", LIST("120 kg", "150 kg")},
           {"kettlebell", LIST("cast iron", "competition steel", "vinyl-coated iron"),
            LIST("a wide handle that fits both hands", "a flat base that stands steady",
                 "a powder-coat grip"),
            "weight", LIST("8 kg", "12 kg", "16 kg", "24 kg")}),
     LIST("a free app with guided workouts", "a compact footprint for small flats"),
     LIST("home workouts", "morning yoga", "strength training", "recovery days",
          "high-intensity intervals", "physiotherapy routines", "garage gyms"),
     LIST("fitness", "yoga", "strength", "home gym", "training", "recovery", "cardio"),
     LIST("wipe down with mild soap after each session", "store away from radiators"), 10, 1400},
    {"bags",
     KINDS({"travel backpack", LIST("ballistic nylon", "recycled polyester", "cordura"),
            LIST("a clamshell opening that packs like a suitcase", "a padded laptop compartment",
                 "a hidden passport pocket"),
            "volume", LIST("30 l", "35 l", "45 l")},
           {"carry-on suitcase", LIST("polycarbonate", "aluminium", "recycled polypropylene"),
            LIST("spinner wheels that roll quietly", "a TSA-approved lock", "a compression panel"),
            "dimensions", LIST("55 x 40 x 20 cm", "55 x 35 x 23 cm")},
           {"15\" laptop sleeve", LIST("felt", "neoprene", "full-grain leather"),
            LIST("a soft lining that protects against scratches", "a front pocket for a charger",
                 "a magnetic closure"),
            "fits", LIST("13-14\" laptops", "15-16\" laptops")},
           {"duffel bag", LIST("waxed canvas", "ballistic nylon", "recycled polyester"),
            LIST("a separate shoe compartment", "backpack straps that tuck away",
                 "a wide U-shaped opening"),
            "volume", LIST("40 l", "60 l", "90 l")},
           {"messenger bag", LIST("waxed canvas", "full-grain leather", "cordura"),
            LIST("a cross-body strap with a quick-release buckle", "a padded laptop sleeve",
                 "reflective piping for night rides"),
            "volume", LIST("15 l", "20 l")}),
     LIST("YKK zips that do not snag", "water-resistant fabric"),
     LIST("business trips", "weekend getaways", "cabin-only flights", "bike commutes",
          "university days", "gym sessions after work", "long train journeys"),
     LIST("travel", "luggage", "backpack", "laptop", "carry-on", "commute", "weekender"),
     LIST("spot clean with warm soapy water", "empty and air out after each trip"), 25, 450},
    {"garden",
     KINDS({"pruning shears", LIST("carbon steel", "stainless steel", "forged aluminium"),
            LIST("a bypass blade that cuts cleanly without crushing stems",
                 "a sap groove that stops sticking", "a one-hand safety catch"),
            "cutting capacity", LIST("20 mm", "25 mm")},
           {"garden hose", LIST("reinforced PVC", "natural rubber", "expandable latex"),
            LIST("a kink-free design that coils back by itself", "brass fittings",
                 "a seven-pattern spray nozzle"),
            "length", LIST("15 m", "25 m", "30 m")},
           {"raised planter bed", LIST("cedar wood", "galvanised steel", "recycled plastic"),
            LIST("drainage holes that stop roots from rotting", "a liner that keeps the soil in",
                 "a height that spares your back"),
            "dimensions", LIST("120 x 60 cm", "180 x 90 cm")},
           {"cordless lawn mower", LIST("recycled plastic", "steel", "aluminium"),
            LIST("a battery that mows a medium lawn", "a mulching mode",
                 "a handle that folds flat for storage"),
            "cutting width", LIST("33 cm", "38 cm", "42 cm")},
           {"watering can", LIST("galvanised steel", "powder-coated steel", "recycled plastic"),
            LIST("a long spout for reaching the back rows", "a removable brass rose",
                 "a balanced second handle"),
            "capacity", LIST("5 l", "9 l")}),
     LIST("an ergonomic grip that spares the wrists", "a ten-year guarantee"),
     LIST("balcony gardens", "vegetable patches", "rose pruning", "small suburban lawns",
          "allotments", "herb growing", "spring clean-ups"),
     LIST("garden", "outdoor", "tools", "plants", "lawn", "growing", "eco"),
     LIST("clean and dry it after use", "store indoors over winter"), 12, 700},
    {"office",
     KINDS({"ergonomic office chair", LIST("mesh", "recycled fabric", "leather"),
            LIST("lumbar support that adjusts to your back", "4D armrests",
                 "a seat depth you can set"),
            "max user weight", LIST("120 kg", "150 kg")},
           {"mechanical keyboard", LIST("anodised aluminium", "PBT plastic", "polycarbonate"),
            LIST("hot-swappable switches", "keycaps that do not shine with use",
                 "both USB-C and Bluetooth connections"),
            "layout", LIST("75%", "tenkeyless", "full size")},
           {"monitor arm", LIST("aluminium", "steel", "powder-coated steel"),
            LIST("a gas spring that holds 9 kg", "cable clips along the arm",
                 "a clamp and a grommet mount"),
            "max screen size", LIST("27\"", "32\"", "34\"")},
           {"desk lamp", LIST("brass", "aluminium", "beech wood"),
            LIST("a warm dimmable light that is easy on the eyes",
                 "an arm that stays where you put it", "a USB-C port in the base"),
            "colour temperature", LIST("2700 K", "2700-5000 K")},
           {"notebook set", LIST("recycled paper", "acid-free paper", "linen-bound board"),
            LIST("paper that takes fountain pen ink without bleeding", "a lay-flat binding",
                 "numbered pages and an index"),
            "paper", LIST("A5 dotted", "A5 lined", "B5 grid")}),
     LIST("a clean minimal design", "a two-year warranty"),
     LIST("long working days", "focused writing sessions", "hybrid work setups",
          "late-night coding", "journaling", "small home offices", "shared desks"),
     LIST("office", "ergonomic", "desk setup", "stationery", "work from home", "productivity"),
     LIST("wipe with a dry cloth", "keep it away from spilled drinks"), 8, 1100},
};
#define N_CATEGORIES (sizeof categories / sizeof categories[0])

static const word_list brands =
    LIST("Trailblazer", "Northpeak", "Nordåsen", "Fjällmark", "Ironwood", "Harbor & Pine", "Lumen",
         "Kestrel", "Stillwater", "Copperline", "Alder", "Brightmoor", "Vantage", "Tidewell",
         "Oakhurst", "Meridian", "Solstice", "Greywolf", "Marlow", "Bellbird");
static const word_list series = LIST("Ridge", "Summit", "Aero", "Terra", "Nomad", "Classic", "Pro",
                                     "Edge", "Drift", "Atlas", "Haven", "Pulse", "Orbit", "Vista",
                                     "Ember", "Glacier", "Cascade", "Origin", "Loft", "Mesa");
static const word_list adjectives = LIST("Rugged", "Lightweight", "Handcrafted", "Versatile",
                                         "Compact", "Durable", "Minimalist", "Premium", "Classic",
                                         "Sleek", "Sturdy", "Timeless", "Everyday", "Modern");
static const word_list colors = LIST("brown", "black", "navy", "olive", "charcoal", "forest green",
                                     "crème", "slate grey", "burnt orange", "sand", "burgundy",
                                     "sky blue");
static const word_list origins = LIST("Portugal", "Italy", "Vietnam", "Sweden", "Germany", "Japan",
                                      "Mexico", "Poland", "Canada", "Taiwan");

typedef struct currency {
    const char *code;
    int per_100_usd; /* rough exchange rate: units of this currency per 100 USD */
} currency;

static const currency currencies[] = {{"USD", 100},  {"EUR", 92},  {"GBP", 79},  {"CHF", 88},
                                      {"SEK", 1050}, {"CAD", 136}, {"AUD", 152}, {"JPY", 15000}};
#define N_CURRENCIES (sizeof currencies / sizeof currencies[0])

static const char *pick(const word_list *l, uint64_t i) { return l->v[i % l->n]; }
static uint8_t roll(rb_prng *r, size_t n) { return (uint8_t)rb_prng_below(r, n); }

static const category *cat_of(const rb_gen_product *p) {
    return &categories[p->category % N_CATEGORIES];
}

static const kind *kind_of(const rb_gen_product *p) {
    const category *c = cat_of(p);
    return &c->kinds[p->noun % c->n_kinds];
}

/* Prices end the way shop prices do: .99, .95, .50 or .00. */
static int64_t shop_price(rb_prng *r, int64_t cents) {
    static const int endings[] = {99, 95, 50, 0};
    int64_t units = cents / 100;
    if (units < 1) units = 1;
    return units * 100 + endings[rb_prng_below(r, 4)];
}

static void new_price(rb_prng *r, rb_gen_product *p) {
    const category *c = cat_of(p);
    int64_t usd_cents = rb_prng_range(r, (int64_t)c->price_min * 100, (int64_t)c->price_max * 100);
    p->price_cents = shop_price(r, usd_cents * currencies[p->currency].per_100_usd / 100);
}

void rb_gen_catalog_create(rb_prng *r, rb_gen_product *p) {
    p->category = roll(r, N_CATEGORIES);
    const category *c = cat_of(p);
    p->noun = roll(r, c->n_kinds);
    const kind *k = kind_of(p);
    p->material = roll(r, k->materials.n);
    p->attr_value = roll(r, k->attr_values.n);
    p->color = roll(r, colors.n);
    p->adjective = roll(r, adjectives.n);
    p->origin = roll(r, origins.n);
    p->brand = (uint16_t)rb_prng_below(r, brands.n);
    p->series = (uint16_t)rb_prng_below(r, series.n);
    /* Most of the catalogue is priced in dollars and euros. */
    p->currency = rb_prng_chance(r, 0.6) ? roll(r, 2) : roll(r, N_CURRENCIES);
    p->in_stock = rb_prng_chance(r, 0.85);
    new_price(r, p);
    p->desc_seed = rb_prng_next(r);
    p->tag_seed = rb_prng_next(r);
}

bool rb_gen_catalog_mutate(rb_prng *r, rb_gen_product *p) {
    uint64_t what = rb_prng_below(r, 100);
    if (what < 35) {
        /* A price change of 5-20 % either way; text unchanged, so a
         * pipeline that hashes texts can reuse the stored embedding. */
        int64_t pct = rb_prng_range(r, 5, 20) * (rb_prng_chance(r, 0.5) ? 1 : -1);
        p->price_cents = shop_price(r, p->price_cents + p->price_cents * pct / 100);
        return false;
    }
    if (what < 50) {
        p->in_stock = !p->in_stock;
        return false;
    }
    if (what < 75) {
        p->desc_seed = rb_prng_next(r);
        return true;
    }
    if (what < 85) {
        p->tag_seed = rb_prng_next(r);
        return true;
    }
    if (what < 93) {
        /* A new colour changes the description and the attributes. */
        uint8_t old = p->color;
        while (p->color == old) p->color = roll(r, colors.n);
        return true;
    }
    uint16_t old = p->series;
    while (p->series == old) p->series = (uint16_t)rb_prng_below(r, series.n);
    return true;
}

static int append_title_case(rb_buf *out, const char *s) {
    bool start = true;
    for (; *s; s++) {
        char ch = *s;
        if (start && ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
        start = (ch == ' ' || ch == '-');
        if (rb_buf_putc(out, ch) != 0) return -1;
    }
    return 0;
}

int rb_gen_catalog_name(const rb_gen_product *p, rb_buf *out) {
    if (rb_buf_printf(out, "%s %s ", pick(&brands, p->brand), pick(&series, p->series)) != 0)
        return -1;
    return append_title_case(out, kind_of(p)->noun);
}

size_t rb_gen_catalog_word_count(const char *s, size_t len) {
    size_t words = 0;
    bool in_word = false;
    for (size_t i = 0; i < len; i++) {
        bool space = s[i] == ' ' || s[i] == '\t' || s[i] == '\n';
        if (!space && !in_word) words++;
        in_word = !space;
    }
    return words;
}

#define DESC_MIN_WORDS 20
#define DESC_MAX_WORDS 60
#define N_SENTENCES 7

/* Draws phrases for one description without repeating one: the kind's
 * own features and the category's shared ones form one pool, the uses
 * another; `used` remembers what was taken (pools are under 64). */
typedef struct drawer {
    rb_prng r;
    const category *c;
    const kind *k;
    uint64_t used_features;
    uint64_t used_uses;
} drawer;

static size_t draw_index(rb_prng *r, size_t n, uint64_t *used) {
    size_t i = (size_t)rb_prng_below(r, n);
    /* Walk forward to the next unused one; once all are used, repeat. */
    for (size_t step = 0; step < n; step++) {
        size_t j = (i + step) % n;
        if (!(*used & (1ULL << j))) {
            *used |= 1ULL << j;
            return j;
        }
    }
    return i;
}

static const char *draw_feature(drawer *d) {
    size_t nk = d->k->features.n, n = nk + d->c->features.n;
    size_t i = draw_index(&d->r, n, &d->used_features);
    return i < nk ? d->k->features.v[i] : d->c->features.v[i - nk];
}

static const char *draw_use(drawer *d) {
    return d->c->uses.v[draw_index(&d->r, d->c->uses.n, &d->used_uses)];
}

/* Writes optional sentence `which` of the description into `s`. */
static int sentence(const rb_gen_product *p, drawer *d, int which, rb_buf *s) {
    const char *brand = pick(&brands, p->brand);
    switch (which) {
    case 0: {
        const char *u1 = draw_use(d);
        return rb_buf_printf(s, "Designed for %s and %s.", u1, draw_use(d));
    }
    case 1: return rb_buf_printf(s, "It also comes with %s.", draw_feature(d));
    case 2:
        return rb_buf_printf(s, "Made in %s and backed by a %d-year %s warranty.",
                             pick(&origins, p->origin), (int)rb_prng_range(&d->r, 1, 5), brand);
    case 3: return rb_buf_printf(s, "Care: %s.", pick(&d->c->care, rb_prng_next(&d->r)));
    case 4:
        return rb_buf_printf(s, "A %s choice for %s that pairs well with other %s %s gear.",
                             rb_prng_chance(&d->r, 0.5) ? "smart" : "dependable", draw_use(d),
                             brand, d->c->name);
    case 5:
        return rb_buf_printf(s,
                             "Reviewers single out %s and say it still looks new after a "
                             "season of hard use.",
                             draw_feature(d));
    default:
        return rb_buf_printf(s, "The %s %s is chosen to last, and it shows after years of %s.",
                             pick(&colors, p->color), pick(&d->k->materials, p->material),
                             draw_use(d));
    }
}

int rb_gen_catalog_description(const rb_gen_product *p, rb_buf *out) {
    drawer d = {.c = cat_of(p), .k = kind_of(p)};
    rb_prng_seed(&d.r, p->desc_seed);

    /* The opening sentence says what the product is, in its colour and
     * material; the rest is chosen and ordered by the product's seed. */
    size_t start = out->len;
    if (rb_buf_printf(out, "%s %s in %s %s, with %s.", pick(&adjectives, p->adjective), d.k->noun,
                      pick(&colors, p->color), pick(&d.k->materials, p->material),
                      draw_feature(&d)) != 0)
        return -1;

    int order[N_SENTENCES];
    for (int i = 0; i < N_SENTENCES; i++) order[i] = i;
    for (int i = N_SENTENCES - 1; i > 0; i--) {
        int j = (int)rb_prng_below(&d.r, (uint64_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t target = (size_t)rb_prng_range(&d.r, DESC_MIN_WORDS + 5, DESC_MAX_WORDS - 5);
    size_t words = rb_gen_catalog_word_count(out->data + start, out->len - start);

    rb_buf s;
    rb_buf_init(&s);
    int rc = 0;
    for (int i = 0; i < N_SENTENCES && (words < target || words < DESC_MIN_WORDS); i++) {
        rb_buf_reset(&s);
        if (sentence(p, &d, order[i], &s) != 0) {
            rc = -1;
            break;
        }
        size_t w = rb_gen_catalog_word_count(s.data, s.len);
        if (words + w > DESC_MAX_WORDS) continue;
        if (rb_buf_putc(out, ' ') != 0 || rb_buf_append(out, s.data, s.len) != 0) {
            rc = -1;
            break;
        }
        words += w;
    }
    rb_buf_free(&s);
    return rc;
}

const char *rb_gen_catalog_category(const rb_gen_product *p) { return cat_of(p)->name; }

const char *rb_gen_catalog_brand(const rb_gen_product *p) { return pick(&brands, p->brand); }

const char *rb_gen_catalog_currency(const rb_gen_product *p) {
    return currencies[p->currency % N_CURRENCIES].code;
}

int rb_gen_catalog_price_json(const rb_gen_product *p, rb_buf *out) {
    return rb_buf_printf(out, "%lld.%02lld", (long long)(p->price_cents / 100),
                         (long long)(p->price_cents % 100));
}

int rb_gen_catalog_tags_json(const rb_gen_product *p, rb_buf *out) {
    const category *c = cat_of(p);
    rb_prng r;
    rb_prng_seed(&r, p->tag_seed);
    /* 2-5 distinct category tags: pick without replacement by a partial
     * shuffle of the indices. */
    size_t idx[16];
    size_t n = c->tags.n < 16 ? c->tags.n : 16;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    size_t want = (size_t)rb_prng_range(&r, 2, 5);
    if (want > n) want = n;
    if (rb_buf_putc(out, '[') != 0) return -1;
    for (size_t i = 0; i < want; i++) {
        size_t j = i + (size_t)rb_prng_below(&r, n - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        const char *tag = c->tags.v[idx[i]];
        if ((i && rb_buf_putc(out, ',') != 0) || rb_buf_json_string(out, tag, strlen(tag)) != 0)
            return -1;
    }
    return rb_buf_putc(out, ']');
}

static int member(rb_buf *out, bool first, const char *key, const char *value) {
    if (!first && rb_buf_putc(out, ',') != 0) return -1;
    if (rb_buf_json_string(out, key, strlen(key)) != 0 || rb_buf_putc(out, ':') != 0) return -1;
    return rb_buf_json_string(out, value, strlen(value));
}

int rb_gen_catalog_attributes_json(const rb_gen_product *p, rb_buf *out) {
    const kind *k = kind_of(p);
    if (rb_buf_putc(out, '{') != 0 || member(out, true, "color", pick(&colors, p->color)) != 0 ||
        member(out, false, "material", pick(&k->materials, p->material)) != 0 ||
        member(out, false, k->attr_key, pick(&k->attr_values, p->attr_value)) != 0 ||
        member(out, false, "origin", pick(&origins, p->origin)) != 0)
        return -1;
    return rb_buf_putc(out, '}');
}
