//! A labelled resolution data set, generated from a seed: accounts with realistic names in
//! several scripts and deliberate traps, contacts and leads whose true account is known, IP
//! ranges, `identify` stitching, and activities over all of them. Every activity carries its
//! true account (or none), its true contact (or none) and the rule that should give it.

use std::collections::{HashMap, HashSet};

use abmeter_resolve::identity::{Account, ActivityKeys, Contact, Identification, Inputs, IpRange};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------------------------
// Word lists

/// Hand-written Latin brand words (fictional or generic).
const BRANDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Proseware",
    "Lucerne",
    "Margie",
    "Trey",
    "Coho",
    "Woodgrove",
    "Adatum",
    "Alpine",
    "Blue Yonder",
    "Cyberdyne",
    "Soylent",
    "Tyrell",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Nakatomi",
    "Oceanic",
    "Pendant",
    "Massive Dynamic",
    "Dunder Mifflin",
    "Sterling Cooper",
    "Prestige Worldwide",
    "Bluth",
    "Kramerica",
    "Gekko",
    "Virtucon",
    "Zorin",
    "Spectre",
    "Tessier Ashpool",
    "Weyland",
    "Yutani",
    "Omni",
    "Buy More",
    "Paper Street",
    "Wernham Hogg",
    "Ollivander",
    "Brightwater",
    "Silverline",
    "Redwood",
    "Ironclad",
    "Keystone",
    "Evergreen",
    "Summit",
    "Pinnacle",
    "Horizon",
    "Meridian",
    "Lighthouse",
    "Riverbend",
    "Stonebridge",
    "Cobalt",
    "Granite",
    "Juniper",
    "Magnolia",
    "Sequoia",
    "Aspen",
    "Falcon",
    "Osprey",
    "Kestrel",
    "Pelican",
    "Heron",
    "Sparrow",
    "Condor",
    "Harbor",
    "Beacon",
    "Compass",
    "Anchor",
    "Vertex",
    "Quantum",
    "Catalyst",
    "Momentum",
    "Paragon",
    "Zenith",
    "Apex",
    "Vanguard",
    "Sentinel",
    "Bastion",
    "Citadel",
    "Frontier",
    "Pioneer",
    "Voyager",
    "Odyssey",
    "Atlas",
    "Titan",
    "Orion",
    "Phoenix",
    "Polaris",
    "Nimbus",
    "Cirrus",
    "Stratus",
    "Aurora",
    "Solstice",
    "Equinox",
    "Tundra",
    "Sahara",
    "Mesa",
    "Canyon",
    "Glacier",
    "Cascade",
];

/// Syllables for coined brands (`Veltora`, `Norivant`, ...).
const STARTS: &[&str] = &[
    "Vel", "Nor", "Zen", "Quan", "Lum", "Kor", "Tri", "Sol", "Aur", "Cal", "Dyn", "Ev", "Fal",
    "Hel", "Ix", "Jun", "Kel", "Lor", "Mar", "Nex", "Ori", "Pra", "Qui", "Rho", "Syn", "Tav", "Ul",
    "Ver", "Wex", "Xan", "Yor", "Zy", "Bren", "Cor", "Dal", "Fen", "Gal", "Hal", "Mor", "Pel",
    "Ren", "Sar", "Tor", "Val", "Wil",
];
const MIDDLES: &[&str] = &[
    "a", "e", "i", "o", "u", "ar", "en", "ix", "on", "or", "al", "is",
];
const ENDS: &[&str] = &[
    "tora", "via", "nix", "lux", "gen", "tek", "vant", "dex", "ris", "thos", "mont", "field",
    "gate", "stone", "wave", "bridge", "crest", "point", "sphere", "path", "line", "works",
];

/// Industry words and phrases that follow a brand.
const INDUSTRIES: &[&str] = &[
    "Traders",
    "Labs",
    "Logistics",
    "Systems",
    "Analytics",
    "Robotics",
    "Energy",
    "Foods",
    "Pharmaceuticals",
    "Media",
    "Capital",
    "Software",
    "Networks",
    "Consulting",
    "Holdings",
    "Manufacturing",
    "Biotech",
    "Aerospace",
    "Insurance",
    "Retail",
    "Telecom",
    "Motors",
    "Semiconductors",
    "Security",
    "Cloud",
    "Marine",
    "Textiles",
    "Chemicals",
    "Partners",
    "Ventures",
    "Group",
    "Industries",
    "Technologies",
    "Solutions",
    "Instruments",
    "Materials",
    "Airlines",
    "Hospitality",
    "Health",
    "Diagnostics",
    "Financial Services",
    "Medical Devices",
    "Engineering",
    "Construction",
    "Electric",
    "Interactive",
    "Learning",
    "Outfitters",
    "Brewing",
    "Shipping",
    "Payments",
    "Realty",
    "Advisors",
    "Dynamics",
    "Genomics",
    "Photonics",
    "Automation",
    "Infrastructure",
];

const REGIONS: &[&str] = &[
    "Europe",
    "Asia Pacific",
    "Deutschland",
    "UK",
    "Americas",
    "Nordic",
    "Japan",
];

const LATIN_LEGAL: &[&str] = &[
    "Inc.",
    "LLC",
    "Ltd",
    "Corp.",
    "Corporation",
    "Limited",
    "plc",
    "Pty Ltd",
    "B.V.",
    "AB",
    "S.p.A.",
    "Incorporated",
];
const LATIN_TLDS: &[&str] = &[
    "com", "com", "com", "io", "co.uk", "net", "ai", "com.au", "nl", "se", "it", "ca",
];

const GERMAN_SURNAMES: &[&str] = &[
    "Müller",
    "Schäfer",
    "Köhler",
    "Jäger",
    "Böhm",
    "Krüger",
    "Weiß",
    "Groß",
    "Hoffmann",
    "Schröder",
    "Günther",
    "Brückner",
    "Lührmann",
    "Wächter",
    "Förster",
    "Gärtner",
    "Dörfler",
    "Fröhlich",
    "Hämmerle",
    "Stöckl",
    "Baumgärtner",
    "Kießling",
];
const GERMAN_INDUSTRIES: &[&str] = &[
    "Maschinenbau",
    "Elektrotechnik",
    "Logistik",
    "Anlagenbau",
    "Feinmechanik",
    "Kunststofftechnik",
    "Verpackungen",
    "Medizintechnik",
    "Versicherungen",
    "Bauunternehmung",
    "Druckerei",
    "Spedition",
    "Werkzeugbau",
    "Lebensmittel",
];
const GERMAN_LEGAL: &[&str] = &["GmbH", "AG", "GmbH & Co. KG", "SE", "KG", "GmbH"];

const FRENCH_SURNAMES: &[&str] = &[
    "Lefèvre",
    "Bérard",
    "Gagné",
    "Mercier",
    "Béranger",
    "Dubois",
    "Lemaître",
    "Fabre",
    "Rivière",
    "Chevalier",
    "Brisson",
    "Pélissier",
    "Thibault",
    "Léger",
    "Boucher",
    "Desrosiers",
];
const FRENCH_INDUSTRIES: &[&str] = &[
    "Électronique",
    "Transports",
    "Informatique",
    "Conseil",
    "Énergie",
    "Matériaux",
    "Télécoms",
    "Assurances",
    "Distribution",
    "Ingénierie",
    "Bâtiment",
    "Aéronautique",
    "Pharmacie",
];
const FRENCH_LEGAL: &[&str] = &["SA", "SAS", "SARL", "S.A.S.", "S.A.", "& Cie"];

/// Japanese brand stems with their romanisation (for domains).
const JP_STEMS: &[(&str, &str)] = &[
    ("山田", "yamada"),
    ("佐藤", "sato"),
    ("富士", "fuji"),
    ("東和", "towa"),
    ("日進", "nisshin"),
    ("大和", "yamato"),
    ("三光", "sanko"),
    ("北斗", "hokuto"),
    ("青葉", "aoba"),
    ("明星", "myojo"),
    ("光洋", "koyo"),
    ("旭", "asahi"),
    ("サクラ", "sakura"),
    ("ミドリ", "midori"),
    ("アオイ", "aoi"),
    ("ヒカリ", "hikari"),
    ("ダイワ", "daiwa"),
];
const JP_INDUSTRIES: &[(&str, &str)] = &[
    ("電機", "denki"),
    ("製作所", "seisakusho"),
    ("工業", "kogyo"),
    ("商事", "shoji"),
    ("精工", "seiko"),
    ("化学", "kagaku"),
    ("物産", "bussan"),
    ("通信", "tsushin"),
    ("システムズ", "systems"),
    ("建設", "kensetsu"),
    ("薬品", "yakuhin"),
    ("食品", "shokuhin"),
    ("運輸", "unyu"),
];
const JP_LEGAL: &[&str] = &["株式会社", "株式会社", "合同会社", "有限会社"];

const CN_STEMS: &[(&str, &str)] = &[
    ("华星", "huaxing"),
    ("腾飞", "tengfei"),
    ("金山", "jinshan"),
    ("长城", "changcheng"),
    ("东方", "dongfang"),
    ("恒通", "hengtong"),
    ("中科", "zhongke"),
    ("新源", "xinyuan"),
    ("天宇", "tianyu"),
    ("瑞丰", "ruifeng"),
    ("宏图", "hongtu"),
    ("远景", "yuanjing"),
    ("海纳", "haina"),
    ("博雅", "boya"),
    ("鼎盛", "dingsheng"),
    ("启明", "qiming"),
    ("星河", "xinghe"),
    ("云帆", "yunfan"),
    ("立信", "lixin"),
    ("安泰", "antai"),
];
const CN_INDUSTRIES: &[(&str, &str)] = &[
    ("科技", "tech"),
    ("网络技术", "network"),
    ("电子", "electronics"),
    ("软件", "soft"),
    ("信息技术", "it"),
    ("医药", "pharma"),
    ("物流", "logistics"),
    ("新能源", "energy"),
    ("智能制造", "im"),
    ("通信设备", "telecom"),
    ("生物科技", "biotech"),
    ("材料", "materials"),
];
const CN_CITIES: &[(&str, &str)] = &[
    ("深圳", "sz"),
    ("上海", "sh"),
    ("北京", "bj"),
    ("杭州", "hz"),
    ("广州", "gz"),
    ("苏州", "suzhou"),
];
const CN_LEGAL: &[&str] = &["有限公司", "股份有限公司", "有限责任公司", "有限公司"];
/// Ideographs that replace one of a stem's (a different company, not a typo).
const CN_OTHER_CHARS: &[char] = &['兴', '鑫', '信', '辉', '达', '盛', '泰', '通', '宇', '明'];

pub const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "qq.com",
    "163.com",
    "126.com",
    "icloud.com",
    "web.de",
    "gmx.de",
    "orange.fr",
    "yahoo.co.jp",
    "proton.me",
    "foxmail.com",
    "vip.qq.com",
    "vip.163.com",
    "mailinator.com",
];

const FIRST_NAMES: &[&str] = &[
    "anna", "ben", "carla", "david", "elena", "felix", "grace", "hiro", "ines", "jun", "karl",
    "lena", "mei", "noah", "olga", "pierre", "qing", "rosa", "sven", "tara", "ugo", "vera", "wei",
    "xavier", "yuki", "zoe", "li", "sato", "marie", "lukas",
];
const LAST_NAMES: &[&str] = &[
    "smith", "mueller", "dubois", "tanaka", "wang", "garcia", "rossi", "novak", "kim", "silva",
    "jensen", "ivanova", "chen", "suzuki", "martin", "weber", "moreau", "zhang", "lopez",
    "nakamura",
];
const TITLES: &[&str] = &[
    "VP Marketing",
    "Head of IT",
    "CFO",
    "Procurement Manager",
    "Software Engineer",
    "Director of Operations",
    "Marketing Manager",
    "Data Analyst",
    "Chief Revenue Officer",
    "Sales Director",
];

// ---------------------------------------------------------------------------------------------
// The data set

/// One activity with its labels.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    pub id: String,
    pub account_id: Option<String>,
    pub contact_id: Option<String>,
    pub email: Option<String>,
    pub anonymous_id: Option<String>,
    pub ip: Option<String>,
    /// The account the activity truly belongs to.
    pub truth: Option<String>,
    /// The contact the activity truly belongs to (none for anonymous visitors and for an
    /// address two contacts share).
    pub truth_contact: Option<String>,
    /// The first rule (SPEC §3 order) that can give `truth`; `None` when the true account is
    /// none or no rule can reach it (a domain two accounts share and no other signal).
    pub expected_rule: Option<u8>,
    /// What the generator built, for the diagnostics.
    pub case: &'static str,
    /// For leads matched by company name: the variation of the account name.
    pub variant: Option<&'static str>,
}

impl Activity {
    pub fn keys(&self) -> ActivityKeys<'_> {
        ActivityKeys {
            account_id: self.account_id.as_deref(),
            contact_id: self.contact_id.as_deref(),
            email: self.email.as_deref(),
            anonymous_id: self.anonymous_id.as_deref(),
            ip: self.ip.as_deref(),
        }
    }
}

/// A visitor identified as two contacts: the later identification is the true one.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub anonymous_id: String,
    pub earlier: String,
    pub later: String,
}

#[derive(Debug)]
pub struct Dataset {
    pub inputs: Inputs,
    pub activities: Vec<Activity>,
    pub conflicts: Vec<Conflict>,
    /// Sizes by category, for the report.
    pub sizes: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    German,
    French,
    Japanese,
    Chinese,
}

/// Where a legal form goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegalAt {
    Before,
    After,
}

#[derive(Debug, Clone)]
struct Acc {
    id: String,
    /// The name without its legal form, as written (`Müller Maschinenbau`, `サクラ電機`).
    core: String,
    legal: Option<&'static str>,
    legal_at: LegalAt,
    script: Script,
    domains: Vec<String>,
    /// The Latin brand the name starts with.
    brand: Option<String>,
}

impl Acc {
    fn name(&self) -> String {
        compose(&self.core, self.legal, self.legal_at, self.script)
    }
}

fn compose(core: &str, legal: Option<&str>, at: LegalAt, script: Script) -> String {
    let cjk = matches!(script, Script::Japanese | Script::Chinese);
    match (legal, at) {
        (Some(l), LegalAt::Before) if cjk => format!("{l}{core}"),
        (Some(l), LegalAt::Before) => format!("{l} {core}"),
        (Some(l), LegalAt::After) if cjk => format!("{core}{l}"),
        (Some(l), LegalAt::After) => format!("{core} {l}"),
        (None, _) => core.to_string(),
    }
}

/// The key two names are the same company by: the core, lower case, accents folded.
fn core_key(core: &str) -> String {
    fold(core).to_lowercase()
}

/// Accents removed (the letters the word lists use).
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' => 'e',
            'É' | 'È' => 'E',
            'â' | 'à' => 'a',
            'î' => 'i',
            'ô' => 'o',
            'ü' => 'u',
            'Ü' => 'U',
            'ö' => 'o',
            'Ö' => 'O',
            'ä' => 'a',
            'Ä' => 'A',
            c => c,
        })
        .collect::<String>()
        .replace('ß', "ss")
}

/// German transliteration (ä → ae, ß → ss), as people type without umlauts.
fn transliterate(s: &str) -> String {
    s.replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('Ä', "Ae")
        .replace('Ö', "Oe")
        .replace('Ü', "Ue")
        .replace('ß', "ss")
}

fn slug(s: &str) -> String {
    transliterate(&fold_fr(s))
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn fold_fr(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' => 'e',
            'É' | 'È' => 'E',
            'â' | 'à' => 'a',
            'î' => 'i',
            'ô' => 'o',
            c => c,
        })
        .collect()
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// One-letter typo in `word` (ASCII letters, ≥ 8): a substitution, a swap of neighbours, a
/// deletion or a doubled letter, never at the first letter.
fn typo(word: &str, rng: &mut ChaCha8Rng) -> String {
    let chars: Vec<char> = word.chars().collect();
    loop {
        let mut c = chars.clone();
        let p = rng.random_range(1..c.len());
        match rng.random_range(0..4) {
            0 => {
                let letter = (b'a' + rng.random_range(0..26u8)) as char;
                c[p] = if c[p].is_uppercase() {
                    letter.to_ascii_uppercase()
                } else {
                    letter
                };
            }
            1 => c.swap(p - 1, p),
            2 => {
                c.remove(p);
            }
            _ => c.insert(p, c[p]),
        }
        if c != chars {
            return c.into_iter().collect();
        }
    }
}

/// Optimal string alignment distance over chars, for the vocabulary filter.
fn osa(a: &str, b: &str) -> usize {
    strsim::osa_distance(&a.to_lowercase(), &b.to_lowercase())
}

struct Gen {
    rng: ChaCha8Rng,
    accounts: Vec<Acc>,
    cores: HashSet<String>,
    domains: HashMap<String, Vec<usize>>,
    /// Latin brands in use, with the industries used with each ("" = the brand alone).
    families: HashMap<String, Vec<&'static str>>,
    contacts: Vec<Contact>,
    /// Per contact: true account, the rule that gives it, whether its email is its own.
    contact_truth: Vec<(Option<String>, Option<u8>, bool)>,
    /// Per contact: the variation of its company text (rule 4 leads, look-alikes).
    contact_variant: Vec<Option<&'static str>>,
    ranges: Vec<IpRange>,
    identifications: Vec<Identification>,
    activities: Vec<Activity>,
    conflicts: Vec<Conflict>,
    next_id: usize,
    emails_used: HashSet<String>,
    sizes: Vec<(String, usize)>,
}

impl Gen {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:06}", self.next_id)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *items.choose(&mut self.rng).expect("non-empty list")
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// Adds an account; `None` when its core is taken.
    #[allow(clippy::too_many_arguments)]
    fn add_account(
        &mut self,
        brand: Option<&str>,
        core: String,
        legal: Option<&'static str>,
        legal_at: LegalAt,
        script: Script,
        domain_slug: &str,
        tlds: &[&str],
    ) -> Option<usize> {
        if !self.cores.insert(core_key(&core)) {
            return None;
        }
        let i = self.accounts.len();
        let id = format!("001A{:05}", i);
        let mut domains = Vec::new();
        let n = if self.chance(0.3) { 2 } else { 1 };
        let mut tries = 0;
        while domains.len() < n && tries < 20 {
            tries += 1;
            let tld = self.pick(tlds);
            let base = match (domains.len(), tries) {
                (0, t) if t < 4 => domain_slug.to_string(),
                (_, t) if t < 8 => {
                    let alt = ["group", "hq", "global", "corp", "mail"];
                    format!("{domain_slug}{}", self.pick(&alt))
                }
                _ => format!("{domain_slug}{}", self.rng.random_range(2..99)),
            };
            let d = format!("{base}.{tld}");
            if abmeter_resolve::free_mail::is_free_mail(&d) || self.domains.contains_key(&d) {
                continue;
            }
            self.domains.insert(d.clone(), vec![i]);
            domains.push(d);
        }
        assert!(!domains.is_empty(), "no domain for {core}");
        self.accounts.push(Acc {
            id,
            core,
            legal,
            legal_at,
            script,
            domains,
            brand: brand.map(str::to_string),
        });
        Some(i)
    }

    fn latin_legal(&mut self) -> Option<&'static str> {
        if self.chance(0.5) {
            Some(self.pick(LATIN_LEGAL))
        } else {
            None
        }
    }

    fn build_accounts(&mut self, brands: &[String]) {
        // Latin brand families: the brand alone and/or with industries ("Acme", "Acme Labs",
        // "Globex", "Globex Financial Services").
        let mut latin = 0;
        for brand in brands {
            if latin >= 1400 {
                break;
            }
            let members = self.rng.random_range(1..=3);
            let mut used: Vec<&'static str> = Vec::new();
            for m in 0..members {
                let industry = if m == 0 && self.chance(0.35) {
                    ""
                } else {
                    self.pick(INDUSTRIES)
                };
                if used.contains(&industry) {
                    continue;
                }
                let core = if industry.is_empty() {
                    brand.clone()
                } else {
                    format!("{brand} {industry}")
                };
                let legal = self.latin_legal();
                let slug = slug(&core);
                if self
                    .add_account(
                        Some(brand),
                        core,
                        legal,
                        LegalAt::After,
                        Script::Latin,
                        &slug,
                        LATIN_TLDS,
                    )
                    .is_some()
                {
                    used.push(industry);
                    latin += 1;
                }
            }
            // Regional subsidiaries of some families ("Northwind Traders Europe").
            if let Some(&ind) = used.iter().find(|i| !i.is_empty())
                && self.chance(0.08)
            {
                let region = self.pick(REGIONS);
                let core = format!("{brand} {ind} {region}");
                let slug = format!("{}{}", slug(&format!("{brand} {ind}")), slug(region));
                let legal = self.latin_legal();
                if self
                    .add_account(
                        Some(brand),
                        core,
                        legal,
                        LegalAt::After,
                        Script::Latin,
                        &slug,
                        &["eu", "com", "de"],
                    )
                    .is_some()
                {
                    latin += 1;
                }
            }
            self.families.insert(brand.clone(), used);
        }
        // German.
        for _ in 0..260 {
            let core = format!(
                "{} {}",
                self.pick(GERMAN_SURNAMES),
                self.pick(GERMAN_INDUSTRIES)
            );
            let legal = Some(self.pick(GERMAN_LEGAL));
            let s = slug(&core);
            self.add_account(
                None,
                core,
                legal,
                LegalAt::After,
                Script::German,
                &s,
                &["de", "de", "at", "ch"],
            );
        }
        // French.
        for _ in 0..200 {
            let core = format!(
                "{} {}",
                self.pick(FRENCH_SURNAMES),
                self.pick(FRENCH_INDUSTRIES)
            );
            let legal = if self.chance(0.8) {
                Some(self.pick(FRENCH_LEGAL))
            } else {
                None
            };
            let s = slug(&core);
            self.add_account(
                None,
                core,
                legal,
                LegalAt::After,
                Script::French,
                &s,
                &["fr", "fr", "be"],
            );
        }
        // Japanese.
        for _ in 0..160 {
            let (stem, stem_r) = self.pick(JP_STEMS);
            let (ind, ind_r) = self.pick(JP_INDUSTRIES);
            let at = if self.chance(0.5) {
                LegalAt::Before
            } else {
                LegalAt::After
            };
            let legal = Some(self.pick(JP_LEGAL));
            self.add_account(
                None,
                format!("{stem}{ind}"),
                legal,
                at,
                Script::Japanese,
                &format!("{stem_r}-{ind_r}"),
                &["co.jp", "jp", "com"],
            );
        }
        // Chinese.
        for _ in 0..200 {
            let (stem, stem_r) = self.pick(CN_STEMS);
            let (ind, ind_r) = self.pick(CN_INDUSTRIES);
            let (core, s) = if self.chance(0.3) {
                let (city, city_r) = self.pick(CN_CITIES);
                (
                    format!("{city}{stem}{ind}"),
                    format!("{city_r}{stem_r}-{ind_r}"),
                )
            } else {
                (format!("{stem}{ind}"), format!("{stem_r}-{ind_r}"))
            };
            let legal = Some(self.pick(CN_LEGAL));
            self.add_account(
                None,
                core,
                legal,
                LegalAt::After,
                Script::Chinese,
                &s,
                &["com.cn", "cn", "com"],
            );
        }

        // Trap: names that differ only by the legal form (two companies, two domains).
        let latin_ids: Vec<usize> = (0..self.accounts.len())
            .filter(|&i| matches!(self.accounts[i].script, Script::Latin | Script::German))
            .collect();
        for _ in 0..30 {
            let i = self.pick(&latin_ids);
            let a = self.accounts[i].clone();
            let legal = match a.script {
                Script::German => "Inc.",
                _ => "GmbH",
            };
            if a.legal == Some(legal) {
                continue;
            }
            let id = format!("001A{:05}", self.accounts.len());
            let d = format!("{}-{}.com", slug(&a.core), slug(legal));
            if self.domains.contains_key(&d) {
                continue;
            }
            self.domains.insert(d.clone(), vec![self.accounts.len()]);
            self.accounts.push(Acc {
                id,
                core: a.core.clone(),
                legal: Some(legal),
                legal_at: LegalAt::After,
                script: a.script,
                domains: vec![d],
                brand: a.brand.clone(),
            });
        }

        // Trap: a domain two accounts share (a parent and a subsidiary both list it).
        for _ in 0..30 {
            let a = self.rng.random_range(0..self.accounts.len());
            let b = self.rng.random_range(0..self.accounts.len());
            if a == b {
                continue;
            }
            let d = self.accounts[a].domains[0].clone();
            let owners = self.domains.get_mut(&d).expect("known domain");
            if owners.contains(&b) {
                continue;
            }
            owners.push(b);
            self.accounts[b].domains.push(d);
        }
    }

    /// A domain only this account has, if any.
    fn own_domain(&mut self, a: usize) -> Option<String> {
        let own: Vec<String> = self.accounts[a]
            .domains
            .iter()
            .filter(|d| self.domains[*d].len() == 1)
            .cloned()
            .collect();
        own.choose(&mut self.rng).cloned()
    }

    fn shared_domain(&self, a: usize) -> Option<String> {
        self.accounts[a]
            .domains
            .iter()
            .find(|d| self.domains[*d].len() > 1)
            .cloned()
    }

    fn local_part(&mut self) -> String {
        let f = self.pick(FIRST_NAMES);
        let l = self.pick(LAST_NAMES);
        match self.rng.random_range(0..3) {
            0 => format!("{f}.{l}"),
            1 => format!("{}{l}", &f[..1]),
            _ => format!("{f}_{l}{}", self.rng.random_range(1..99)),
        }
    }

    /// A fresh address at `host` (numbered when taken).
    fn email_at(&mut self, host: &str) -> String {
        let mut e = format!("{}@{host}", self.local_part());
        let mut k = 2;
        while self.emails_used.contains(&e.to_lowercase()) {
            e = format!("{}{k}@{host}", self.local_part());
            k += 1;
        }
        self.emails_used.insert(e.to_lowercase());
        e
    }

    /// A business address at one of the account's own domains, sometimes at a sub-domain
    /// and in mixed case.
    fn business_email(&mut self, domain: &str) -> String {
        let host = match self.rng.random_range(0..6) {
            0 => format!("mail.eu.{domain}"),
            1 => format!("sales.{domain}"),
            2 => format!("uk.{domain}"),
            _ => domain.to_string(),
        };
        let e = self.email_at(&host);
        if self.chance(0.15) {
            let (l, h) = e.split_once('@').expect("an address");
            let mut l = l.to_string();
            if let Some(f) = l.get_mut(..1) {
                f.make_ascii_uppercase();
            }
            format!("{l}@{}", h.to_uppercase())
        } else {
            e
        }
    }

    fn free_email(&mut self) -> String {
        let host = self.pick(FREE_MAIL);
        self.email_at(host)
    }

    fn add_contact(
        &mut self,
        account_id: Option<String>,
        email: Option<String>,
        company: Option<String>,
        truth: Option<String>,
        rule: Option<u8>,
    ) -> usize {
        let id = self.id("003C");
        let title = Some(self.pick(TITLES).to_string());
        self.contacts.push(Contact {
            id,
            account_id,
            email,
            company,
            title,
            ..Contact::default()
        });
        self.contact_truth.push((truth, rule, true));
        self.contact_variant.push(None);
        self.contacts.len() - 1
    }

    /// The account's name varied as people type it. `None` when the variation does not
    /// apply to this name.
    fn variant(&mut self, a: usize, kind: &'static str) -> Option<String> {
        let acc = self.accounts[a].clone();
        let name = acc.name();
        let cjk = matches!(acc.script, Script::Japanese | Script::Chinese);
        let other_legal = |script: Script, rng: &mut ChaCha8Rng| -> &'static str {
            let list: &[&str] = match script {
                Script::Latin => &["Inc.", ", Inc.", "LLC", "Ltd.", "Corp", "Co., Ltd."],
                Script::German => &["GmbH", "AG", "GmbH & Co. KG"],
                Script::French => &["S.A.", "SAS", "SARL"],
                Script::Japanese => &["株式会社", "(株)", "㈱"],
                Script::Chinese => &["有限公司", "股份有限公司", "有限责任公司"],
            };
            list.choose(rng).copied().unwrap_or("Inc.")
        };
        Some(match kind {
            "exact" => name,
            "suffix_removed" => {
                acc.legal?;
                acc.core.clone()
            }
            "suffix_added" | "suffix_changed" => {
                if (kind == "suffix_added") != acc.legal.is_none() {
                    return None;
                }
                let mut l = other_legal(acc.script, &mut self.rng);
                if Some(l) == acc.legal {
                    l = other_legal(acc.script, &mut self.rng);
                }
                // (株) and 合同会社 lead; 株式会社 goes either way.
                let at = if acc.script == Script::Japanese && (l != "株式会社" || self.chance(0.5))
                {
                    LegalAt::Before
                } else {
                    LegalAt::After
                };
                if l.starts_with(',') {
                    format!("{}{l}", acc.core)
                } else {
                    compose(&acc.core, Some(l), at, acc.script)
                }
            }
            "upper" if !cjk => name.to_uppercase(),
            "lower" if !cjk => name.to_lowercase(),
            "punctuation" if !cjk => match self.rng.random_range(0..3) {
                0 if acc.core.contains(' ') => compose(
                    &acc.core.replace(' ', "-"),
                    acc.legal,
                    acc.legal_at,
                    acc.script,
                ),
                1 if acc.legal.is_some() => {
                    format!("{}, {}.", acc.core, acc.legal.unwrap_or_default())
                }
                _ => format!("{name}."),
            },
            "accents_removed" => {
                let f = fold(&name);
                if f == name {
                    return None;
                }
                f
            }
            "transliterated" => {
                let t = transliterate(&name);
                if t == name {
                    return None;
                }
                t
            }
            "full_width" => full_width(&name),
            "typo" | "typo_suffix_case" => {
                if cjk {
                    return None;
                }
                let words: Vec<&str> = acc.core.split(' ').collect();
                let long: Vec<usize> = (0..words.len())
                    .filter(|&i| {
                        words[i].chars().count() >= 8 && words[i].chars().all(|c| c.is_alphabetic())
                    })
                    .collect();
                let &w = long.choose(&mut self.rng)?;
                let mut words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
                words[w] = typo(&words[w], &mut self.rng);
                let core = words.join(" ");
                if kind == "typo" {
                    compose(&core, acc.legal, acc.legal_at, acc.script)
                } else {
                    let l = other_legal(acc.script, &mut self.rng);
                    let t = compose(&core, Some(l), LegalAt::After, acc.script);
                    if self.chance(0.5) {
                        t.to_uppercase()
                    } else {
                        t.to_lowercase()
                    }
                }
            }
            _ => return None,
        })
    }

    /// A company text that looks like an account but names none.
    fn lookalike(&mut self) -> Option<(String, &'static str)> {
        let a = self.rng.random_range(0..self.accounts.len());
        let acc = self.accounts[a].clone();
        let kind = self.rng.random_range(0..5);
        let (core, what) = match (acc.script, kind) {
            (Script::Latin, 0) => {
                // "Acme Labs" when only "Acme" (or "Acme Traders") exists.
                let brand = acc.brand.clone()?;
                let ind = self.pick(INDUSTRIES);
                (format!("{brand} {ind}"), "other_industry")
            }
            (Script::Latin | Script::German | Script::French, 1) => {
                // "Acme Labs" when only "Acme" exists; "Northwind Traders Logistics".
                let ind = self.pick(INDUSTRIES);
                (format!("{} {ind}", acc.core), "extra_word")
            }
            (Script::Latin, 3) => {
                // Another brand a syllable away ("Velatora Labs" for "Renatora Labs"): a
                // different company with a similar name. Two or more edits from every
                // account brand: one edit is indistinguishable from a typo.
                let brand = acc.brand.clone()?;
                let start = STARTS.iter().find(|s| brand.starts_with(**s))?;
                let other = format!("{}{}", self.pick(STARTS), &brand[start.len()..]);
                if self.families.keys().any(|b| osa(b, &other) < 2) {
                    return None;
                }
                (acc.core.replacen(&brand, &other, 1), "similar_brand")
            }
            (Script::Latin, 2) => {
                let region = self.pick(REGIONS);
                (format!("{} {region}", acc.core), "regional")
            }
            (Script::German, _) => {
                let surname = acc.core.split(' ').next()?;
                let ind = self.pick(GERMAN_INDUSTRIES);
                (format!("{surname} {ind}"), "other_industry")
            }
            (Script::French, _) => {
                let surname = acc.core.split(' ').next()?;
                let ind = self.pick(FRENCH_INDUSTRIES);
                (format!("{surname} {ind}"), "other_industry")
            }
            (Script::Japanese, _) => {
                let stem = JP_STEMS.iter().find(|(s, _)| acc.core.starts_with(s))?.0;
                let ind = self.pick(JP_INDUSTRIES).0;
                (format!("{stem}{ind}"), "cjk_other_industry")
            }
            (Script::Chinese, 0 | 1) => {
                let mut chars: Vec<char> = acc.core.chars().collect();
                let p = self.rng.random_range(0..2.min(chars.len()));
                chars[p] = self.pick(CN_OTHER_CHARS);
                (chars.into_iter().collect(), "cjk_one_character")
            }
            (Script::Chinese, _) => {
                let stem = CN_STEMS.iter().find(|(s, _)| acc.core.contains(s))?.0;
                let ind = self.pick(CN_INDUSTRIES).0;
                (format!("{stem}{ind}"), "cjk_other_industry")
            }
            _ => {
                // A brand no account uses, with an industry.
                let b = format!(
                    "{}{}{}",
                    self.pick(STARTS),
                    self.pick(MIDDLES),
                    self.pick(ENDS)
                );
                if self
                    .families
                    .keys()
                    .any(|f| osa(f, &b) < 2 || f.starts_with(&b) || b.starts_with(f.as_str()))
                {
                    return None;
                }
                (format!("{b} {}", self.pick(INDUSTRIES)), "unrelated")
            }
        };
        if self.cores.contains(&core_key(&core)) {
            return None;
        }
        let legal = match acc.script {
            Script::Latin | Script::German | Script::French if self.chance(0.4) => {
                format!(" {}", self.pick(&["Inc.", "GmbH", "Ltd", "SAS"]))
            }
            Script::Japanese if self.chance(0.5) => "株式会社".into(),
            Script::Chinese if self.chance(0.7) => "有限公司".into(),
            _ => String::new(),
        };
        Some((format!("{core}{legal}"), what))
    }

    fn add_activity(&mut self, mut a: Activity) {
        a.id = self.id("act-");
        self.activities.push(a);
    }

    /// Activities of one contact, in the ways activities name contacts.
    fn contact_activities(
        &mut self,
        c: usize,
        ip_pool: &IpPool,
        case: &'static str,
        variant: Option<&'static str>,
    ) {
        self.contact_variant[c] = variant;
        let (truth, rule, own_email) = self.contact_truth[c].clone();
        let contact = self.contacts[c].clone();
        let n = self.rng.random_range(1..=4);
        for _ in 0..n {
            let mut act = Activity {
                truth: truth.clone(),
                truth_contact: Some(contact.id.clone()),
                expected_rule: rule,
                case,
                variant,
                ..Activity::default()
            };
            let how = self.rng.random_range(0..7);
            match how {
                0 | 1 => act.contact_id = Some(contact.id.clone()),
                2 if own_email && contact.email.is_some() => {
                    // By email alone, maybe in other case.
                    let e = contact.email.clone().unwrap_or_default();
                    act.email = Some(if self.chance(0.3) {
                        e.to_uppercase()
                    } else {
                        e
                    });
                }
                3 => {
                    act.contact_id = Some(contact.id.clone());
                    act.email = contact.email.clone();
                }
                4 => {
                    // A web visit of a known contact from home or a café: the contact wins.
                    act.contact_id = Some(contact.id.clone());
                    act.ip = Some(ip_pool.unattributed(&mut self.rng));
                }
                5 if truth.is_some() => {
                    // A CRM task on the account (rule 1), with the contact.
                    act.account_id = truth.clone();
                    act.contact_id = Some(contact.id.clone());
                    act.expected_rule = Some(1);
                }
                6 => {
                    // A stale account id (deleted in the CRM): counts as absent.
                    act.account_id = Some(format!("001DELETED{}", self.rng.random_range(0..999)));
                    act.contact_id = Some(contact.id.clone());
                }
                _ => {
                    // A stale contact id with the contact's email: found by the email.
                    if own_email && contact.email.is_some() {
                        act.contact_id = Some("003DELETED".into());
                        act.email = contact.email.clone();
                    } else {
                        act.contact_id = Some(contact.id.clone());
                    }
                }
            }
            self.add_activity(act);
        }
    }
}

/// Allocated IP space: business ranges with their account, and addresses that no account
/// owns (ISP, hosting, no range).
struct IpPool {
    /// (sampler, account id) of business ranges.
    business: Vec<(Sampler, String)>,
    /// Addresses in ISP or hosting ranges, or in none (true account: none).
    isp: Vec<Sampler>,
    none: Vec<Sampler>,
}

/// Draws an address: IPv4 `a.b.c.(lo..=hi)` or IPv6 `prefix:(lo..=hi)`, minus an excluded
/// sub-block.
#[derive(Clone, Debug)]
enum Sampler {
    V4 { abc: [u8; 3], lo: u8, hi: u8 },
    V4Wide { ab: [u8; 2], avoid_c: Option<u8> },
    V6 { prefix: String, lo: u16, hi: u16 },
}

impl Sampler {
    fn draw(&self, rng: &mut ChaCha8Rng) -> String {
        match self {
            Sampler::V4 { abc, lo, hi } => {
                format!(
                    "{}.{}.{}.{}",
                    abc[0],
                    abc[1],
                    abc[2],
                    rng.random_range(*lo..=*hi)
                )
            }
            Sampler::V4Wide { ab, avoid_c } => loop {
                let c: u8 = rng.random();
                if Some(c) != *avoid_c {
                    return format!("{}.{}.{c}.{}", ab[0], ab[1], rng.random::<u8>());
                }
            },
            Sampler::V6 { prefix, lo, hi } => {
                format!("{prefix}{:x}", rng.random_range(*lo..=*hi))
            }
        }
    }
}

impl IpPool {
    fn unattributed(&self, rng: &mut ChaCha8Rng) -> String {
        let list = if rng.random_bool(0.6) {
            &self.isp
        } else {
            &self.none
        };
        list.choose(rng).expect("samplers").draw(rng)
    }
}

fn brands(rng: &mut ChaCha8Rng) -> Vec<String> {
    // Hand-written and coined brands, no two within one edit of each other (and none within
    // one edit of an industry word), so that a word swapped for another vocabulary word is a
    // different company, never a typo.
    let mut candidates: Vec<String> = Vec::new();
    for s in STARTS {
        for m in MIDDLES {
            for e in ENDS {
                candidates.push(format!("{s}{m}{e}"));
            }
        }
    }
    candidates.shuffle(rng);
    let mut out: Vec<String> = Vec::new();
    for c in BRANDS
        .iter()
        .map(|s| s.to_string())
        .chain(candidates.into_iter().take(2500))
    {
        if out.len() >= 900 {
            break;
        }
        let clash = out
            .iter()
            .any(|o| osa(o, &c) < 3 || o.starts_with(c.as_str()) || c.starts_with(o.as_str()))
            || INDUSTRIES.iter().any(|i| osa(i, &c) < 3);
        if !clash {
            out.push(c);
        }
    }
    out
}

pub fn generate(seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let brands = brands(&mut rng);
    let mut g = Gen {
        rng,
        accounts: Vec::new(),
        cores: HashSet::new(),
        domains: HashMap::new(),
        families: HashMap::new(),
        contacts: Vec::new(),
        contact_truth: Vec::new(),
        contact_variant: Vec::new(),
        ranges: Vec::new(),
        identifications: Vec::new(),
        activities: Vec::new(),
        conflicts: Vec::new(),
        next_id: 0,
        emails_used: HashSet::new(),
        sizes: Vec::new(),
    };
    g.build_accounts(&brands);
    let n_accounts = g.accounts.len();

    // ----- IP ranges
    let mut pool = IpPool {
        business: Vec::new(),
        isp: Vec::new(),
        none: Vec::new(),
    };
    let mut range_kinds: HashMap<&'static str, usize> = HashMap::new();
    let mut block = 0u32;
    for a in 0..n_accounts {
        if !g.chance(0.55) {
            continue;
        }
        let acc = g.accounts[a].clone();
        // By account id, or by an own domain (a shared one would name no single account).
        let by_domain = g.chance(0.2).then(|| g.own_domain(a)).flatten();
        let kind = if g.chance(0.05) {
            Some("education".to_string())
        } else if g.chance(0.5) {
            Some("business".to_string())
        } else {
            None
        };
        block += 1;
        let (b1, b2) = ((block / 256) as u8, (block % 256) as u8);
        let (network, sampler, what) = match g.rng.random_range(0..5) {
            0 | 1 => (
                format!("20.{b1}.{b2}.0/24"),
                Sampler::V4 {
                    abc: [20, b1, b2],
                    lo: 0,
                    hi: 255,
                },
                "v4_cidr",
            ),
            2 => (
                format!("20.{b1}.{b2}.64/26"),
                Sampler::V4 {
                    abc: [20, b1, b2],
                    lo: 64,
                    hi: 127,
                },
                "v4_cidr",
            ),
            3 => (
                format!("20.{b1}.{b2}.10-20.{b1}.{b2}.200"),
                Sampler::V4 {
                    abc: [20, b1, b2],
                    lo: 10,
                    hi: 200,
                },
                "v4_start_end",
            ),
            _ => {
                if g.chance(0.5) {
                    (
                        format!("2001:db8:{block:x}::/48"),
                        Sampler::V6 {
                            prefix: format!("2001:db8:{block:x}:7::"),
                            lo: 1,
                            hi: 0xffff,
                        },
                        "v6_cidr",
                    )
                } else {
                    (
                        format!("2001:db8:{block:x}::100-2001:db8:{block:x}::1ff"),
                        Sampler::V6 {
                            prefix: format!("2001:db8:{block:x}::"),
                            lo: 0x100,
                            hi: 0x1ff,
                        },
                        "v6_start_end",
                    )
                }
            }
        };
        *range_kinds.entry(what).or_default() += 1;
        g.ranges.push(IpRange {
            network,
            account_id: by_domain.is_none().then(|| acc.id.clone()),
            domain: by_domain,
            kind,
        });
        pool.business.push((sampler, acc.id.clone()));
    }
    // Nested: a /16 of one account holding a /24 of another (and some holding an ISP /24,
    // e.g. a co-working provider in a campus range).
    for n in 0..60u8 {
        let big = g.rng.random_range(0..n_accounts);
        let small = g.rng.random_range(0..n_accounts);
        if big == small {
            continue;
        }
        let (big_id, small_id) = (g.accounts[big].id.clone(), g.accounts[small].id.clone());
        let c = g.rng.random::<u8>();
        g.ranges.push(IpRange {
            network: format!("60.{n}.0.0/16"),
            account_id: Some(big_id.clone()),
            ..IpRange::default()
        });
        pool.business.push((
            Sampler::V4Wide {
                ab: [60, n],
                avoid_c: Some(c),
            },
            big_id,
        ));
        if n % 4 == 3 {
            g.ranges.push(IpRange {
                network: format!("60.{n}.{c}.0/24"),
                kind: Some(if n % 8 == 3 { "isp" } else { "hosting" }.into()),
                ..IpRange::default()
            });
            pool.isp.push(Sampler::V4 {
                abc: [60, n, c],
                lo: 0,
                hi: 255,
            });
            *range_kinds.entry("nested_isp_in_business").or_default() += 1;
        } else {
            g.ranges.push(IpRange {
                network: format!("60.{n}.{c}.0-60.{n}.{c}.255"),
                account_id: Some(small_id.clone()),
                ..IpRange::default()
            });
            pool.business.push((
                Sampler::V4 {
                    abc: [60, n, c],
                    lo: 0,
                    hi: 255,
                },
                small_id,
            ));
            *range_kinds.entry("nested_business").or_default() += 1;
        }
        // IPv6 nesting too.
        if n % 3 == 0 {
            let (big_id, small_id) = (g.accounts[big].id.clone(), g.accounts[small].id.clone());
            g.ranges.push(IpRange {
                network: format!("2001:db9:{n:x}::/48"),
                account_id: Some(big_id.clone()),
                ..IpRange::default()
            });
            g.ranges.push(IpRange {
                network: format!("2001:db9:{n:x}:42::/64"),
                account_id: Some(small_id.clone()),
                ..IpRange::default()
            });
            pool.business.push((
                Sampler::V6 {
                    prefix: format!("2001:db9:{n:x}:41::"),
                    lo: 0,
                    hi: 0xffff,
                },
                big_id,
            ));
            pool.business.push((
                Sampler::V6 {
                    prefix: format!("2001:db9:{n:x}:42::"),
                    lo: 0,
                    hi: 0xffff,
                },
                small_id,
            ));
            *range_kinds.entry("nested_v6").or_default() += 1;
        }
    }
    // ISP and hosting ranges, some naming an account (an ISP row wrongly tagged with a
    // customer): they never attribute.
    for n in 0..40u8 {
        let named = (n % 5 == 0).then(|| g.accounts[usize::from(n) * 7 % n_accounts].id.clone());
        g.ranges.push(IpRange {
            network: format!("100.{n}.0.0/16"),
            account_id: named,
            kind: Some("isp".into()),
            ..IpRange::default()
        });
        pool.isp.push(Sampler::V4Wide {
            ab: [100, n],
            avoid_c: None,
        });
        g.ranges.push(IpRange {
            network: format!("150.{n}.16.0/20"),
            kind: Some("Hosting".into()),
            ..IpRange::default()
        });
        pool.isp.push(Sampler::V4 {
            abc: [150, n, 20],
            lo: 0,
            hi: 255,
        });
        g.ranges.push(IpRange {
            network: format!("2a00:{n:x}::/32"),
            kind: Some("isp".into()),
            ..IpRange::default()
        });
        pool.isp.push(Sampler::V6 {
            prefix: format!("2a00:{n:x}:5::"),
            lo: 0,
            hi: 0xffff,
        });
        *range_kinds.entry("isp_or_hosting").or_default() += 3;
        pool.none.push(Sampler::V4Wide {
            ab: [200, n],
            avoid_c: None,
        });
        pool.none.push(Sampler::V6 {
            prefix: format!("2c0f:{n:x}::"),
            lo: 0,
            hi: 0xffff,
        });
    }

    // ----- Contacts and leads
    let mut contact_kinds: HashMap<&'static str, usize> = HashMap::new();
    let variants: &[&'static str] = &[
        "exact",
        "suffix_removed",
        "suffix_added",
        "suffix_changed",
        "upper",
        "lower",
        "punctuation",
        "accents_removed",
        "transliterated",
        "full_width",
        "typo",
        "typo",
        "typo_suffix_case",
    ];
    for a in 0..n_accounts {
        let acc_id = g.accounts[a].id.clone();
        let per = g.rng.random_range(1..=5);
        for _ in 0..per {
            let c = match g.rng.random_range(0..10) {
                // Rule 2: a CRM contact with its account; email on the account's domain,
                // free mail or even another account's domain.
                0..=2 => {
                    let email = match g.rng.random_range(0..5) {
                        0 => Some(g.free_email()),
                        1 => {
                            let other = g.rng.random_range(0..n_accounts);
                            let d = g.accounts[other].domains[0].clone();
                            Some(g.email_at(&d))
                        }
                        2 => None,
                        _ => {
                            let d = g.accounts[a].domains[0].clone();
                            Some(g.business_email(&d))
                        }
                    };
                    *contact_kinds.entry("rule2_contact").or_default() += 1;
                    let c = g.add_contact(
                        Some(acc_id.clone()),
                        email,
                        None,
                        Some(acc_id.clone()),
                        Some(2),
                    );
                    (c, "rule2_contact", None)
                }
                // Rule 3: a lead (or a contact whose account id is stale) with a business
                // email on the account's own domain.
                3..=5 => {
                    let Some(d) = g.own_domain(a) else { continue };
                    let email = g.business_email(&d);
                    let stale = g.chance(0.2).then(|| "001DELETED0".to_string());
                    let company = if g.chance(0.4) {
                        g.variant(a, "exact")
                    } else {
                        None
                    };
                    *contact_kinds.entry("rule3_lead").or_default() += 1;
                    let c =
                        g.add_contact(stale, Some(email), company, Some(acc_id.clone()), Some(3));
                    (c, "rule3_lead", None)
                }
                // Rule 4 only: free mail (or no email, an unknown or a shared domain) and
                // the company typed in a form.
                _ => {
                    let kind = g.pick(variants);
                    let Some(company) = g.variant(a, kind) else {
                        continue;
                    };
                    let email = match g.rng.random_range(0..8) {
                        0 => None,
                        1 => {
                            let d = format!(
                                "{}-mail.net",
                                slug(&g.accounts[a].core)
                                    .chars()
                                    .take(12)
                                    .collect::<String>()
                            );
                            if g.domains.contains_key(&d) {
                                Some(g.free_email())
                            } else {
                                Some(g.email_at(&d))
                            }
                        }
                        2 => match g.shared_domain(a) {
                            Some(d) => Some(g.email_at(&d)),
                            None => Some(g.free_email()),
                        },
                        _ => Some(g.free_email()),
                    };
                    *contact_kinds.entry("rule4_lead").or_default() += 1;
                    let c =
                        g.add_contact(None, email, Some(company), Some(acc_id.clone()), Some(4));
                    (c, "rule4_lead", Some(kind))
                }
            };
            g.contact_activities(c.0, &pool, c.1, c.2);
        }
        // A lead at a shared domain with no company: its account cannot be told.
        if let Some(d) = g.shared_domain(a)
            && g.chance(0.5)
        {
            let email = g.email_at(&d);
            let c = g.add_contact(None, Some(email), None, Some(acc_id.clone()), None);
            *contact_kinds.entry("shared_domain_lead").or_default() += 1;
            g.contact_activities(c, &pool, "shared_domain_lead", None);
        }
    }
    // Leads whose company looks like an account but is none.
    let mut made = 0;
    while made < 1500 {
        let Some((company, what)) = g.lookalike() else {
            continue;
        };
        let email = if g.chance(0.8) {
            Some(g.free_email())
        } else {
            Some(g.email_at("unlisted-company.example"))
        };
        let c = g.add_contact(None, email, Some(company), None, None);
        *contact_kinds.entry("lookalike_lead").or_default() += 1;
        g.contact_activities(c, &pool, "lookalike_lead", Some(what));
        made += 1;
    }
    // Leads with free mail and no company.
    for _ in 0..400 {
        let email = g.free_email();
        let c = g.add_contact(None, Some(email), None, None, None);
        *contact_kinds.entry("free_mail_no_company").or_default() += 1;
        g.contact_activities(c, &pool, "free_mail_no_company", None);
    }
    // An address two leads share (a team inbox): it identifies neither contact, but its
    // domain still names the account.
    for _ in 0..60 {
        let a = g.rng.random_range(0..n_accounts);
        let Some(d) = g.own_domain(a) else { continue };
        let e = g.email_at(&d);
        let acc_id = g.accounts[a].id.clone();
        for _ in 0..2 {
            let c = g.add_contact(None, Some(e.clone()), None, Some(acc_id.clone()), Some(3));
            g.contact_truth[c].2 = false;
        }
        *contact_kinds.entry("shared_email_pair").or_default() += 1;
        g.add_activity(Activity {
            email: Some(e),
            truth: Some(acc_id),
            expected_rule: Some(3),
            case: "shared_email",
            ..Activity::default()
        });
    }

    // ----- Activities without a contact
    // Form fills and email replies from people not in the CRM: rule 3 by domain.
    for _ in 0..800 {
        let a = g.rng.random_range(0..n_accounts);
        let Some(d) = g.own_domain(a) else { continue };
        let e = g.business_email(&d);
        let truth = g.accounts[a].id.clone();
        g.add_activity(Activity {
            email: Some(e),
            truth: Some(truth),
            expected_rule: Some(3),
            case: "unknown_person_business_email",
            ..Activity::default()
        });
    }
    for _ in 0..300 {
        let e = g.free_email();
        g.add_activity(Activity {
            email: Some(e),
            case: "unknown_person_free_mail",
            ..Activity::default()
        });
    }
    // Ad clicks and meetings logged on accounts.
    for _ in 0..600 {
        let a = g.rng.random_range(0..n_accounts);
        let truth = g.accounts[a].id.clone();
        let ip = g.chance(0.5).then(|| pool.unattributed(&mut g.rng));
        g.add_activity(Activity {
            account_id: Some(truth.clone()),
            ip,
            truth: Some(truth),
            expected_rule: Some(1),
            case: "account_activity",
            ..Activity::default()
        });
    }
    // Anonymous web visits.
    let mut visitor = 0;
    let mut anon = || {
        visitor += 1;
        format!("anon-{visitor:06}")
    };
    for _ in 0..5000 {
        let id = anon();
        let (ip, truth, case) = match g.rng.random_range(0..10) {
            0..=4 => {
                let (s, acc) = pool.business.choose(&mut g.rng).expect("ranges").clone();
                let mut ip = s.draw(&mut g.rng);
                let mut case = "visitor_business_ip";
                if !ip.contains(':') && g.chance(0.15) {
                    ip = format!("::ffff:{ip}");
                    case = "visitor_ipv4_mapped";
                }
                (ip, Some(acc), case)
            }
            5..=7 => {
                let s = pool.isp.choose(&mut g.rng).expect("ranges").clone();
                (s.draw(&mut g.rng), None, "visitor_isp_or_hosting_ip")
            }
            _ => {
                let s = pool.none.choose(&mut g.rng).expect("ranges").clone();
                (s.draw(&mut g.rng), None, "visitor_no_range")
            }
        };
        let expected_rule = truth.as_ref().map(|_| 5);
        g.add_activity(Activity {
            anonymous_id: Some(id),
            ip: Some(ip),
            truth,
            expected_rule,
            case,
            ..Activity::default()
        });
    }
    // Identified visitors: earlier and later anonymous visits belong to the contact.
    let mut t: i64 = 1_780_000_000_000_000;
    let n_contacts = g.contacts.len();
    let mut stitched = 0;
    for _ in 0..1200 {
        let c = g.rng.random_range(0..n_contacts);
        let (truth, rule, own_email) = g.contact_truth[c].clone();
        if !own_email {
            continue;
        }
        let contact = g.contacts[c].clone();
        let id = anon();
        t += 1_000_000;
        let by_email = contact.email.is_some() && g.chance(0.4);
        let act_id = g.id("ident-");
        g.identifications.push(Identification {
            anonymous_id: id.clone(),
            contact_id: (!by_email).then(|| contact.id.clone()),
            email: by_email.then(|| {
                let e = contact.email.clone().unwrap_or_default();
                if g.rng.random_bool(0.3) {
                    e.to_uppercase()
                } else {
                    e
                }
            }),
            timestamp: t,
            activity_id: act_id,
        });
        stitched += 1;
        for _ in 0..g.rng.random_range(1..=3) {
            let ip = pool.unattributed(&mut g.rng);
            g.add_activity(Activity {
                anonymous_id: Some(id.clone()),
                ip: Some(ip),
                truth: truth.clone(),
                truth_contact: Some(contact.id.clone()),
                expected_rule: rule,
                case: "stitched_visitor",
                variant: g.contact_variant[c],
                ..Activity::default()
            });
        }
    }
    // Identifications naming no known contact are ignored.
    for _ in 0..100 {
        let id = anon();
        t += 1_000_000;
        let act_id = g.id("ident-");
        g.identifications.push(Identification {
            anonymous_id: id.clone(),
            contact_id: Some("003GHOST".into()),
            email: Some("nobody@unlisted-company.example".into()),
            timestamp: t,
            activity_id: act_id,
        });
        let ip = pool.unattributed(&mut g.rng);
        g.add_activity(Activity {
            anonymous_id: Some(id),
            ip: Some(ip),
            case: "identified_as_unknown_contact",
            ..Activity::default()
        });
    }
    // Stitching conflicts: one visitor identified as two contacts of different accounts;
    // the latest identification (by event time, not input order) wins.
    let rule2: Vec<usize> = (0..n_contacts)
        .filter(|&c| g.contact_truth[c].1 == Some(2) && g.contact_truth[c].2)
        .collect();
    for k in 0..40 {
        let (c1, c2) = (g.pick(&rule2), g.pick(&rule2));
        if g.contact_truth[c1].0 == g.contact_truth[c2].0 {
            continue;
        }
        let id = anon();
        t += 10_000_000;
        let (earlier, later) = (g.contacts[c1].id.clone(), g.contacts[c2].id.clone());
        let (id1, id2) = (g.id("ident-"), g.id("ident-"));
        // Half the time the later identification has the smaller activity id, so only the
        // event time can decide.
        let (id1, id2) = if k % 2 == 0 { (id1, id2) } else { (id2, id1) };
        g.identifications.push(Identification {
            anonymous_id: id.clone(),
            contact_id: Some(earlier.clone()),
            timestamp: t,
            activity_id: id1,
            ..Identification::default()
        });
        g.identifications.push(Identification {
            anonymous_id: id.clone(),
            contact_id: Some(later.clone()),
            timestamp: t + 5_000_000,
            activity_id: id2,
            ..Identification::default()
        });
        for _ in 0..2 {
            let ip = pool.unattributed(&mut g.rng);
            g.add_activity(Activity {
                anonymous_id: Some(id.clone()),
                ip: Some(ip),
                truth: g.contact_truth[c2].0.clone(),
                truth_contact: Some(later.clone()),
                expected_rule: Some(2),
                case: "stitching_conflict",
                ..Activity::default()
            });
        }
        g.conflicts.push(Conflict {
            anonymous_id: id,
            earlier,
            later,
        });
    }
    g.identifications.shuffle(&mut g.rng);
    g.activities.shuffle(&mut g.rng);

    // ----- Inputs
    let mut activity_emails: Vec<String> = Vec::new();
    let mut activity_ips: Vec<String> = Vec::new();
    let (mut seen_e, mut seen_i) = (HashSet::new(), HashSet::new());
    for a in &g.activities {
        if let Some(e) = &a.email
            && seen_e.insert(e.clone())
        {
            activity_emails.push(e.clone());
        }
        if let Some(ip) = &a.ip
            && seen_i.insert(ip.clone())
        {
            activity_ips.push(ip.clone());
        }
    }
    let shared_domains = g.domains.values().filter(|o| o.len() > 1).count();
    let accounts: Vec<Account> = g
        .accounts
        .iter()
        .map(|a| Account {
            id: a.id.clone(),
            name: a.name(),
            domains: a.domains.clone(),
            tier: None,
        })
        .collect();
    let scripts = |s: Script| g.accounts.iter().filter(|a| a.script == s).count();
    let mut sizes: Vec<(String, usize)> = vec![
        ("accounts".into(), accounts.len()),
        ("  latin".into(), scripts(Script::Latin)),
        ("  german".into(), scripts(Script::German)),
        ("  french".into(), scripts(Script::French)),
        ("  japanese".into(), scripts(Script::Japanese)),
        ("  chinese".into(), scripts(Script::Chinese)),
        ("domains".into(), g.domains.len()),
        ("  shared by two accounts".into(), shared_domains),
        ("contacts".into(), g.contacts.len()),
    ];
    let mut kinds: Vec<_> = contact_kinds.into_iter().collect();
    kinds.sort();
    sizes.extend(kinds.into_iter().map(|(k, n)| (format!("  {k}"), n)));
    sizes.push(("ip ranges".into(), g.ranges.len()));
    let mut kinds: Vec<_> = range_kinds.into_iter().collect();
    kinds.sort();
    sizes.extend(kinds.into_iter().map(|(k, n)| (format!("  {k}"), n)));
    sizes.push(("identifications".into(), g.identifications.len()));
    sizes.push(("  stitched visitors".into(), stitched));
    sizes.push(("  conflicts".into(), g.conflicts.len()));
    sizes.push(("activities".into(), g.activities.len()));
    let mut cases: HashMap<&str, usize> = HashMap::new();
    for a in &g.activities {
        *cases.entry(a.case).or_default() += 1;
    }
    let mut cases: Vec<_> = cases.into_iter().collect();
    cases.sort();
    sizes.extend(cases.into_iter().map(|(k, n)| (format!("  {k}"), n)));
    g.sizes = sizes;

    Dataset {
        inputs: Inputs {
            accounts,
            contacts: g.contacts,
            ip_ranges: g.ranges,
            identifications: g.identifications,
            activity_emails,
            activity_ips,
        },
        activities: g.activities,
        conflicts: g.conflicts,
        sizes: g.sizes,
    }
}
