//! The cloud-config: YAML with positions, the schema, validation rules and the typed model.
//! The YAML is parsed once; the validator and the typed model both read it through the schema.

pub mod check;
pub mod decode;
pub mod model;
pub mod schema;
pub mod sshkey;
pub mod unitfile;
pub mod values;
pub mod yaml;

pub use model::CloudConfig;

use crate::report::Finding;

/// A cloud-config read from text: the typed config (what passed its checks) and every finding.
#[derive(Debug, Default)]
pub struct Parsed {
    pub config: CloudConfig,
    pub findings: Vec<Finding>,
    /// False when the YAML did not parse at all; `config` is then empty.
    pub syntax_ok: bool,
}

/// Parses and checks one cloud-config document (the `#cloud-config` line, if any, is a comment).
pub fn parse(text: &str) -> Parsed {
    let doc = match yaml::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            return Parsed {
                config: CloudConfig::default(),
                findings: vec![Finding::error(
                    e.pos,
                    format!("YAML syntax error: {}", e.message),
                )],
                syntax_ok: false,
            }
        }
    };
    let checked = check::check(&doc, text);
    let mut findings = checked.findings;
    for pos in &doc.extra_documents {
        findings.push(Finding::warning(
            *pos,
            "a further YAML document starts here; only the first document of a cloud-config is used, so this one is ignored",
        ));
    }
    crate::report::normalize(&mut findings);
    Parsed {
        config: CloudConfig::from_entries(&checked.root),
        findings,
        syntax_ok: true,
    }
}
