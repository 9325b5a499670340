//! The cloud-config: YAML with positions, the schema, validation rules and the typed model.
//! The YAML is parsed once; the validator and the typed model both read it through the schema.

pub mod check;
pub mod decode;
pub mod directives;
pub mod model;
pub mod schema;
pub mod sshkey;
pub mod template;
pub mod unitcheck;
pub mod unitfile;
pub mod values;
pub mod yaml;

pub use model::CloudConfig;

use crate::report::{Finding, Pos};
use crate::rules::Code;

/// A cloud-config read from text: the typed config (what passed its checks) and every finding.
#[derive(Debug, Default)]
pub struct Parsed {
    pub config: CloudConfig,
    pub findings: Vec<Finding>,
    /// False when the YAML did not parse at all, or aliases expand it beyond what kindling
    /// reads; `config` is then empty.
    pub syntax_ok: bool,
}

/// How the validator reads a config.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The config is a template not yet rendered: placeholders are valid values of any type.
    pub template: bool,
    /// Rules whose findings are dropped (`--allow`), before the findings caps count them.
    pub allow: crate::rules::Allowed,
}

/// Parses and checks one cloud-config document (the `#cloud-config` line, if any, is a comment).
pub fn parse(text: &str) -> Parsed {
    parse_with(text, Options::default())
}

/// `parse`, read as `options` say.
pub fn parse_with(text: &str, options: Options) -> Parsed {
    parse_keeping_tree(text, options).0
}

/// `parse_with`, handing back the YAML tree too (None when the text did not parse), for a
/// caller that reads positions from it: the text is parsed once, not once per reader.
pub fn parse_keeping_tree(text: &str, options: Options) -> (Parsed, Option<yaml::Document>) {
    let doc = match yaml::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let mut message = format!("YAML syntax error: {}", e.message);
            // A placeholder that breaks the YAML is reported even with --template: say why.
            let line = text.lines().nth(e.pos.line.saturating_sub(1)).unwrap_or("");
            if template::has_placeholder(line) {
                message = format!("{message}; {}", template::HINT);
            }
            let parsed = Parsed {
                config: CloudConfig::default(),
                findings: vec![Finding::new(Code::YamlSyntax, e.pos, message)],
                syntax_ok: false,
            };
            return (parsed, None);
        }
    };
    let checked = check::check(&doc, text, options);
    let mut findings = checked.findings;
    let mut cap = checked.cap;
    let mut keep = |f: Finding| {
        if cap.admit(f.code, f.pos) {
            findings.push(f);
        }
    };
    for relaxed in &doc.relaxed {
        keep(Finding::new(
            Code::QuotedScalarIndent,
            relaxed.pos,
            relaxed.message.clone(),
        ));
    }
    for pos in &doc.extra_documents {
        keep(Finding::new(
            Code::ExtraDocument,
            *pos,
            "a further YAML document starts here; only the first document of a cloud-config is used, so this one is ignored",
        ));
    }
    tab_only_lines(&doc, text, &mut keep);
    findings.extend(cap.closing("document"));
    crate::report::normalize(&mut findings);
    if checked.exhausted {
        // Half a hostile document is no better than none of it.
        let parsed = Parsed {
            config: CloudConfig::default(),
            findings,
            syntax_ok: false,
        };
        return (parsed, Some(doc));
    }
    let parsed = Parsed {
        config: CloudConfig::from_entries(&checked.root),
        findings,
        syntax_ok: true,
    };
    (parsed, Some(doc))
}

/// Blank lines holding a tab. YAML 1.2 (and kindling) read them as blank, but the reference's
/// parser (yaml.v3) rejects the whole document at them ("found character that cannot start any
/// token"), so a fleet still booting coreos-cloudinit would lose the config: worth a warning.
fn tab_only_lines(doc: &yaml::Document, text: &str, keep: &mut impl FnMut(Finding)) {
    if !text.contains('\t') {
        return;
    }
    // Lines as YAML counts them (a lone CR ends one too, as `validate` reads it), so that line
    // numbers agree with the parser's positions.
    let lines = crate::lines::Lines::yaml(text);
    // Lines inside block scalars are content, not YAML structure.
    let mut in_block = vec![false; lines.len() + 2];
    for node in &doc.nodes {
        if let yaml::NodeKind::Scalar {
            style: yaml::Style::Literal | yaml::Style::Folded,
            ..
        } = node.kind
        {
            for line in node.pos.line + 1..=node.end_line {
                if let Some(slot) = in_block.get_mut(line) {
                    *slot = true;
                }
            }
        }
    }
    let last = doc.extra_documents.first().map_or(usize::MAX, |p| p.line);
    lines
        .from(0)
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .take_while(|(n, _)| *n < last)
        .filter(|(n, l)| {
            l.contains('\t') && l.trim().is_empty() && !in_block.get(*n).copied().unwrap_or(false)
        })
        .map(|(n, l)| {
            let col = l.chars().take_while(|c| *c != '\t').count() + 1;
            Finding::new(
                Code::TabBlankLine,
                Pos::new(n, col),
                "a blank line holding a tab: kindling reads it as blank, but coreos-cloudinit's YAML parser rejects the whole document here (found character that cannot start any token)",
            )
        })
        .for_each(keep);
}
