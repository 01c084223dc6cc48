//! A contact's seniority, department and persona (SPEC §3, §4, §11).
//!
//! A value given on the contact wins when it names one of [`SENIORITIES`] / [`DEPARTMENTS`]
//! (case-insensitively; spaces and hyphens read as `_`, so `C-Level` is `c_level`); any other
//! value is ignored and the title decides through the configured [`TitleRules`]: keywords
//! match whole words, case-insensitively, hyphens and punctuation read as spaces
//! (`Co-Founder` has the words `co founder`), a multi-word keyword matches a run of words
//! (`head of`), and a keyword containing CJK characters matches anywhere in the title, as
//! Chinese and Japanese titles have no spaces (`市场部经理` contains `经理`). Rules are tried in
//! order and the first rule with a matching keyword wins: no match → `individual` / `other`,
//! no title → `unknown`.
//!
//! Personas come from the contact, else from the first configured [`PersonaRule`] that fits.

use abmeter_model::config::{Config, DEPARTMENTS, PersonaRule, SENIORITIES, TitleRules};
use unicode_normalization::UnicodeNormalization;

/// A seniority or department returned when nothing says otherwise.
const UNKNOWN: &str = "unknown";
const INDIVIDUAL: &str = "individual";
const OTHER: &str = "other";

/// One keyword, ready to match.
#[derive(Debug, Clone, PartialEq)]
enum Keyword {
    /// Lower-case words that must appear as a run of whole words.
    Words(Vec<String>),
    /// Lower-case text that must appear anywhere (keywords with CJK characters).
    Substring(String),
}

/// One rule: a canonical value and its keywords.
#[derive(Debug, Clone)]
struct Rule {
    value: &'static str,
    keywords: Vec<Keyword>,
}

/// One persona rule, with its lists normalised.
#[derive(Debug, Clone)]
struct Persona {
    name: String,
    departments: Vec<&'static str>,
    seniorities: Vec<&'static str>,
    keywords: Vec<Keyword>,
}

/// The title rules and persona rules compiled once; cheap per contact.
#[derive(Debug, Clone)]
pub struct TitleClassifier {
    seniority: Vec<Rule>,
    department: Vec<Rule>,
    personas: Vec<Persona>,
}

/// A title prepared for matching: its lower-case text (for CJK keywords) and words.
#[derive(Debug)]
pub struct Title {
    text: String,
    words: Vec<String>,
}

impl Title {
    /// Prepares a title; `None` when there is none (missing, blank, or no letter or digit).
    pub fn new(title: Option<&str>) -> Option<Title> {
        let title = title?.trim();
        if title.is_empty() {
            return None;
        }
        let text = fold(title);
        let words: Vec<String> = split_words(&text);
        if words.is_empty() {
            return None;
        }
        Some(Title { text, words })
    }

    fn matches(&self, keyword: &Keyword) -> bool {
        match keyword {
            Keyword::Substring(s) => self.text.contains(s.as_str()),
            Keyword::Words(kw) => self
                .words
                .windows(kw.len())
                .any(|w| w.iter().zip(kw).all(|(a, b)| a == b)),
        }
    }

    fn matches_any(&self, keywords: &[Keyword]) -> bool {
        keywords.iter().any(|k| self.matches(k))
    }
}

/// The derived attributes of one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// One of [`SENIORITIES`].
    pub seniority: &'static str,
    /// One of [`DEPARTMENTS`].
    pub department: &'static str,
    /// The given or derived persona, if any.
    pub persona: Option<String>,
}

impl TitleClassifier {
    /// Compiles title rules and persona rules. A rule naming a level or department outside
    /// the SPEC lists, a blank keyword and a persona rule with nothing to match are skipped
    /// (the config's validation refuses them before this point).
    pub fn new(rules: &TitleRules, personas: &[PersonaRule]) -> Self {
        let compile_rule = |value: &str, keywords: &[String], allowed: &[&'static str]| {
            let value = canonical(value, allowed)?;
            let keywords = compile_keywords(keywords);
            (!keywords.is_empty()).then_some(Rule { value, keywords })
        };
        let seniority = rules
            .seniority
            .iter()
            .filter_map(|r| compile_rule(&r.level, &r.keywords, &SENIORITIES[..5]))
            .collect();
        let department = rules
            .department
            .iter()
            .filter_map(|r| compile_rule(&r.department, &r.keywords, &DEPARTMENTS[..12]))
            .collect();
        let personas = personas
            .iter()
            .filter_map(|p| {
                let name = p.persona.trim();
                let persona = Persona {
                    name: name.to_string(),
                    departments: p
                        .departments
                        .iter()
                        .filter_map(|d| canonical(d, &DEPARTMENTS))
                        .collect(),
                    seniorities: p
                        .seniorities
                        .iter()
                        .filter_map(|s| canonical(s, &SENIORITIES))
                        .collect(),
                    keywords: compile_keywords(&p.keywords),
                };
                let has_condition = !(persona.departments.is_empty()
                    && persona.seniorities.is_empty()
                    && persona.keywords.is_empty());
                (!name.is_empty() && has_condition).then_some(persona)
            })
            .collect();
        TitleClassifier {
            seniority,
            department,
            personas,
        }
    }

    /// The classifier of a configuration's `title_rules` and `personas`.
    pub fn from_config(config: &Config) -> Self {
        Self::new(&config.title_rules, &config.personas)
    }

    /// The contact's seniority: `given` when it names a level, else derived from `title`.
    pub fn seniority(&self, given: Option<&str>, title: Option<&str>) -> &'static str {
        self.seniority_of(given, Title::new(title).as_ref())
    }

    /// The contact's department: `given` when it names a department, else derived from
    /// `title`.
    pub fn department(&self, given: Option<&str>, title: Option<&str>) -> &'static str {
        self.department_of(given, Title::new(title).as_ref())
    }

    /// The contact's persona: a non-blank `given` (trimmed), else the first persona rule whose
    /// every non-empty list fits — `department` in its departments, `seniority` in its
    /// seniorities, a keyword in `title` (matched like the title rules) — else `None`.
    /// `department` and `seniority` are the contact's final values (from
    /// [`Self::department`] and [`Self::seniority`]).
    pub fn persona(
        &self,
        given: Option<&str>,
        department: &str,
        seniority: &str,
        title: Option<&str>,
    ) -> Option<String> {
        self.persona_of(given, department, seniority, Title::new(title).as_ref())
    }

    /// Seniority, department and persona at once, preparing the title once.
    pub fn classify(
        &self,
        seniority: Option<&str>,
        department: Option<&str>,
        persona: Option<&str>,
        title: Option<&str>,
    ) -> Classified {
        let title = Title::new(title);
        let seniority = self.seniority_of(seniority, title.as_ref());
        let department = self.department_of(department, title.as_ref());
        let persona = self.persona_of(persona, department, seniority, title.as_ref());
        Classified {
            seniority,
            department,
            persona,
        }
    }

    /// [`Self::seniority`] on a prepared title.
    pub fn seniority_of(&self, given: Option<&str>, title: Option<&Title>) -> &'static str {
        if let Some(level) = given.and_then(|g| given_value(g, &SENIORITIES)) {
            return level;
        }
        match title {
            None => UNKNOWN,
            Some(t) => first_match(&self.seniority, t).unwrap_or(INDIVIDUAL),
        }
    }

    /// [`Self::department`] on a prepared title.
    pub fn department_of(&self, given: Option<&str>, title: Option<&Title>) -> &'static str {
        if let Some(department) = given.and_then(|g| given_value(g, &DEPARTMENTS)) {
            return department;
        }
        match title {
            None => UNKNOWN,
            Some(t) => first_match(&self.department, t).unwrap_or(OTHER),
        }
    }

    /// [`Self::persona`] on a prepared title.
    pub fn persona_of(
        &self,
        given: Option<&str>,
        department: &str,
        seniority: &str,
        title: Option<&Title>,
    ) -> Option<String> {
        if let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) {
            return Some(given.to_string());
        }
        let department = canonical(department, &DEPARTMENTS);
        let seniority = canonical(seniority, &SENIORITIES);
        self.personas
            .iter()
            .find(|p| {
                (p.departments.is_empty() || department.is_some_and(|d| p.departments.contains(&d)))
                    && (p.seniorities.is_empty()
                        || seniority.is_some_and(|s| p.seniorities.contains(&s)))
                    && (p.keywords.is_empty() || title.is_some_and(|t| t.matches_any(&p.keywords)))
            })
            .map(|p| p.name.clone())
    }
}

/// The value of the first rule with a keyword in the title.
fn first_match(rules: &[Rule], title: &Title) -> Option<&'static str> {
    rules
        .iter()
        .find(|r| title.matches_any(&r.keywords))
        .map(|r| r.value)
}

/// A given seniority or department, when it names one of `allowed`. A given `unknown` is
/// treated as no value, so the title can still tell (it is what CRMs write for "not known").
fn given_value(given: &str, allowed: &[&'static str]) -> Option<&'static str> {
    canonical(given, allowed).filter(|v| *v != UNKNOWN)
}

/// The canonical spelling of `value` in `allowed`: compared case-insensitively, blanks around
/// ignored, inner spaces and hyphens read as `_` (`C-Level`, `customer success`).
fn canonical(value: &str, allowed: &[&'static str]) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let snake: String = value
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    allowed.iter().copied().find(|a| *a == snake)
}

fn compile_keywords(keywords: &[String]) -> Vec<Keyword> {
    keywords
        .iter()
        .filter_map(|k| {
            let text = fold(k.trim());
            if text.chars().any(is_cjk) {
                let text = text.trim().to_string();
                return (!text.is_empty()).then_some(Keyword::Substring(text));
            }
            let words = split_words(&text);
            (!words.is_empty()).then_some(Keyword::Words(words))
        })
        .collect()
}

/// NFKC (full-width letters and digits as ASCII) and lower case.
fn fold(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.nfkc().collect::<String>().to_lowercase()
    }
}

/// Words: runs of letters and digits; hyphens, punctuation and blanks separate them.
fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Ideographs, kana and Hangul: keywords containing them match as substrings.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x2FFF | 0x3040..=0x30FF | 0x3100..=0x31FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
        | 0x20000..=0x3FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use abmeter_model::config::{DepartmentRule, SeniorityRule};

    fn classifier() -> TitleClassifier {
        TitleClassifier::new(&TitleRules::default(), &[])
    }

    /// (seniority, department) of a title with nothing given.
    fn of(t: &TitleClassifier, title: &str) -> (&'static str, &'static str) {
        (
            t.seniority(None, Some(title)),
            t.department(None, Some(title)),
        )
    }

    #[test]
    fn spec_examples() {
        let t = classifier();
        let cases = [
            ("IT Manager", ("manager", "it")),
            ("Director of IT", ("director", "it")),
            // `chief` → c_level; no department keyword (`technology` alone is none): other.
            ("Chief Technology Officer", ("c_level", "other")),
            ("CTO", ("c_level", "engineering")),
            ("Founder & CEO", ("c_level", "executive")),
            ("Software Engineer", ("individual", "engineering")),
            ("Vice President, Sales", ("vp", "sales")),
            ("Vice-President of Marketing", ("vp", "marketing")),
            ("SVP Marketing", ("vp", "marketing")),
            ("EVP & CFO", ("vp", "finance")),
            ("President", ("c_level", "executive")),
            ("Co-Founder", ("c_level", "executive")),
            ("co-founder and cto", ("c_level", "engineering")),
            ("Director", ("director", "other")),
            (
                "Director, Customer Success",
                ("director", "customer_success"),
            ),
            ("Head of Growth", ("director", "marketing")),
            ("Team Lead, Support", ("manager", "customer_success")),
            ("Account Executive", ("individual", "sales")),
            (
                "Business Development Representative",
                ("individual", "sales"),
            ),
            ("SDR", ("individual", "sales")),
            ("Information Technology Specialist", ("individual", "it")),
            ("Security Analyst", ("individual", "it")),
            ("DevOps Engineer", ("individual", "engineering")),
            ("Senior Product Manager", ("manager", "product")),
            ("Financial Controller", ("individual", "finance")),
            ("Head of Operations", ("director", "operations")),
            ("COO", ("c_level", "operations")),
            ("CIO", ("c_level", "it")),
            ("HR Business Partner", ("individual", "hr")),
            ("People Ops Manager", ("manager", "hr")),
            ("Talent Acquisition", ("individual", "hr")),
            ("General Counsel", ("individual", "legal")),
            ("Compliance Officer", ("individual", "legal")),
            ("Purchasing Manager", ("manager", "procurement")),
            ("Procurement Lead", ("individual", "procurement")),
            ("Brand Designer", ("individual", "marketing")),
            ("Demand Generation Manager", ("manager", "marketing")),
            ("Receptionist", ("individual", "other")),
            // CJK: substrings.
            ("市场部经理", ("manager", "marketing")),
            ("副总裁", ("vp", "executive")),
            ("总裁", ("c_level", "executive")),
            ("总经理", ("c_level", "executive")),
            ("销售总监", ("director", "sales")),
            ("首席技术官", ("c_level", "engineering")),
            ("研发工程师", ("individual", "engineering")),
            ("财务主管", ("manager", "finance")),
            ("人力资源经理", ("manager", "hr")),
            ("采购专员", ("individual", "procurement")),
            ("法务", ("individual", "legal")),
            ("产品经理", ("manager", "product")),
            ("运营", ("individual", "operations")),
            ("客户成功经理", ("manager", "customer_success")),
            ("信息安全主管", ("manager", "it")),
            ("营销", ("individual", "marketing")),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(title, want)| of(&t, title) != *want)
            .map(|(title, want)| format!("{title}: got {:?}, want {want:?}", of(&t, title)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn whole_words_only() {
        let t = classifier();
        // `cto` is not in `director`, `it` not in `digital` or `Security`'s letters, `hr`
        // not in `three`, `vp` not in `vpn`.
        assert_eq!(of(&t, "Director"), ("director", "other"));
        assert_eq!(of(&t, "Digital Strategist"), ("individual", "other"));
        assert_eq!(of(&t, "Three Sigma Black Belt"), ("individual", "other"));
        assert_eq!(of(&t, "VPN Administrator"), ("individual", "other"));
        assert_eq!(of(&t, "Presidential Aide"), ("individual", "other"));
        // `it` as a word does match, also next to punctuation.
        assert_eq!(of(&t, "Head of IT/Security"), ("director", "it"));
        // A multi-word keyword needs its words in a row.
        assert_eq!(of(&t, "Head Chef of Kitchen"), ("individual", "other"));
        assert_eq!(of(&t, "Vice of the President"), ("c_level", "executive"));
        // Hyphens are spaces; full-width letters are letters.
        assert_eq!(of(&t, "Co-Founder"), ("c_level", "executive"));
        assert_eq!(of(&t, "ＶＰ Ｓａｌｅｓ"), ("vp", "sales"));
        assert_eq!(of(&t, "cofounder"), ("individual", "other"));
    }

    #[test]
    fn no_title_is_unknown() {
        let t = classifier();
        for title in [None, Some(""), Some("   "), Some(" - / ")] {
            assert_eq!(t.seniority(None, title), "unknown", "{title:?}");
            assert_eq!(t.department(None, title), "unknown", "{title:?}");
        }
    }

    #[test]
    fn given_values() {
        let t = classifier();
        assert_eq!(t.seniority(Some("VP"), Some("Engineer")), "vp");
        assert_eq!(t.seniority(Some(" c_level "), None), "c_level");
        assert_eq!(t.seniority(Some("C-Level"), None), "c_level");
        assert_eq!(t.seniority(Some("Individual"), Some("CEO")), "individual");
        // Not a level: the title decides.
        assert_eq!(
            t.seniority(Some("Senior"), Some("Director of IT")),
            "director"
        );
        assert_eq!(t.seniority(Some("Senior"), None), "unknown");
        assert_eq!(t.seniority(Some(""), Some("CEO")), "c_level");
        // `unknown` given says nothing: the title decides.
        assert_eq!(t.seniority(Some("Unknown"), Some("CEO")), "c_level");
        assert_eq!(t.seniority(Some("unknown"), None), "unknown");

        assert_eq!(t.department(Some("Marketing"), Some("CTO")), "marketing");
        assert_eq!(
            t.department(Some("Customer Success"), None),
            "customer_success"
        );
        assert_eq!(t.department(Some("IT"), None), "it");
        assert_eq!(t.department(Some("other"), Some("CTO")), "other");
        assert_eq!(t.department(Some("R&D"), Some("CTO")), "engineering");
        assert_eq!(t.department(Some("unknown"), Some("CTO")), "engineering");
    }

    #[test]
    fn custom_rules_in_order() {
        let rules = TitleRules {
            seniority: vec![
                SeniorityRule {
                    level: "individual".into(),
                    keywords: vec!["intern".into(), "Assistant to the".into()],
                },
                SeniorityRule {
                    level: "director".into(),
                    keywords: vec!["Director".into(), "部長".into()],
                },
            ],
            department: vec![DepartmentRule {
                department: "sales".into(),
                keywords: vec!["Revenue".into(), "  ".into()],
            }],
        };
        let t = TitleClassifier::new(&rules, &[]);
        assert_eq!(of(&t, "Sales Director Intern"), ("individual", "other"));
        assert_eq!(
            of(&t, "Assistant to the Regional Manager"),
            ("individual", "other")
        );
        assert_eq!(of(&t, "Director, Revenue Ops"), ("director", "sales"));
        assert_eq!(of(&t, "営業部長"), ("director", "other"));
        assert_eq!(of(&t, "CEO"), ("individual", "other"));
    }

    fn persona(name: &str, d: &[&str], s: &[&str], k: &[&str]) -> PersonaRule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        PersonaRule {
            persona: name.into(),
            departments: v(d),
            seniorities: v(s),
            keywords: v(k),
        }
    }

    #[test]
    fn personas() {
        let rules = [
            persona("Economic buyer", &[], &["c_level", "vp"], &[]),
            persona(
                "Technical buyer",
                &["it", "engineering"],
                &["director", "manager"],
                &[],
            ),
            persona("Champion", &["marketing"], &[], &["demand", "ops", "运营"]),
            persona("Never", &[], &[], &[]),
        ];
        let t = TitleClassifier::new(&TitleRules::default(), &rules);
        let p = |title: &str| {
            let c = t.classify(None, None, None, Some(title));
            c.persona
        };
        assert_eq!(p("CFO").as_deref(), Some("Economic buyer"));
        assert_eq!(p("SVP Marketing").as_deref(), Some("Economic buyer"));
        assert_eq!(p("IT Manager").as_deref(), Some("Technical buyer"));
        assert_eq!(
            p("Director of Engineering").as_deref(),
            Some("Technical buyer")
        );
        assert_eq!(p("Software Engineer"), None);
        assert_eq!(
            p("Demand Generation Specialist").as_deref(),
            Some("Champion")
        );
        assert_eq!(p("Marketing Ops Analyst").as_deref(), Some("Champion"));
        assert_eq!(p("Marketing Analyst"), None);
        assert_eq!(p("Receptionist"), None);
        // A given persona wins, blanks ignored.
        assert_eq!(
            t.persona(Some(" Gatekeeper "), "other", "individual", None)
                .as_deref(),
            Some("Gatekeeper")
        );
        assert_eq!(
            t.persona(Some("  "), "it", "manager", None).as_deref(),
            Some("Technical buyer")
        );
        // Final values as given to the contact (case-insensitive), no title: keyword rules
        // cannot match.
        assert_eq!(
            t.persona(None, "IT", "Director", None).as_deref(),
            Some("Technical buyer")
        );
        assert_eq!(t.persona(None, "marketing", "individual", None), None);
        assert_eq!(t.persona(None, "unknown", "unknown", None), None);
        // No rules: no persona.
        assert_eq!(classifier().persona(None, "it", "vp", Some("VP IT")), None);
    }

    #[test]
    fn classify_agrees_with_the_parts() {
        let t = TitleClassifier::from_config(&Config::default());
        for (s, d, title) in [
            (None, None, Some("VP Sales")),
            (Some("manager"), None, Some("CEO")),
            (None, Some("legal"), None),
            (Some("bogus"), Some("bogus"), Some("市场总监")),
        ] {
            let c = t.classify(s, d, None, title);
            assert_eq!(c.seniority, t.seniority(s, title));
            assert_eq!(c.department, t.department(d, title));
            assert_eq!(c.persona, None);
        }
    }
}
