//! YAML read once into an arena tree that keeps every node's position, scalar style and tag.
//! Both the validator and the typed model read this tree; nothing re-scans the text.

use std::collections::HashMap;

use crate::lines::Lines;
use yaml_events::{Event, Events, ScalarStyle, Span};

use crate::report::Pos;

mod relax;

use relax::{quoted_scalar_extent, relax_quoted, unshift, Shift};

fn start_of(span: &Span) -> Pos {
    Pos::new(span.start.line(), span.start.col() + 1)
}

pub type NodeId = usize;

/// How a scalar was written, which decides how it may be read (a quoted `"true"` is no bool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(s: ScalarStyle) -> Style {
        match s {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar {
        value: String,
        style: Style,
    },
    Seq(Vec<NodeId>),
    Map(Vec<(NodeId, NodeId)>),
    /// An alias (`*name`) pointing at the node its anchor named.
    Alias(NodeId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node begins: for a block scalar, its indicator (or tag) line.
    pub pos: Pos,
    /// Line where the node's text ends (inclusive for scalars).
    pub end_line: usize,
    pub kind: NodeKind,
    /// The resolved tag, `!!binary` for the YAML core schema's binary.
    pub tag: Option<String>,
}

impl Node {
    pub fn is_binary(&self) -> bool {
        self.tag.as_deref() == Some("!!binary")
    }
}

/// The first document of a stream, and where any further documents begin.
#[derive(Debug, Default)]
pub struct Document {
    pub nodes: Vec<Node>,
    /// None for an empty document (only comments, or nothing).
    pub root: Option<NodeId>,
    /// The start (`---`) of each document after the first, which kindling ignores.
    pub extra_documents: Vec<Pos>,
    /// Places where the text breaks a YAML 1.2 rule that the reference's parser (yaml.v3, like
    /// libyaml) does not enforce, read as that parser reads them: worth a warning each.
    pub relaxed: Vec<SyntaxError>,
}

impl Document {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Follows aliases to the node they stand for.
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        // Anchors are registered only once their node is complete, so alias chains cannot cycle.
        while let NodeKind::Alias(target) = self.nodes[id].kind {
            id = target;
        }
        id
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Deeper nesting than this is refused so that the recursive readers of the tree stay within the
/// stack; no real cloud-config comes near it.
pub const MAX_DEPTH: usize = 256;

/// The tree's memory is bounded, whatever the input: a document whose nodes take more than
/// this is refused, so that reading any payload stays within about 256 MB all told. A
/// cloud-config takes kilobytes; a million aliases (`- *x`) take 84 MiB.
pub const MAX_TREE_BYTES: usize = 96 << 20;

/// What one node costs in memory: the node, its slot in its parent, and the heap blocks of its
/// text, tag and children (the allocator's smallest block is 32 bytes).
fn node_cost(kind: &NodeKind, tag: Option<&String>) -> usize {
    let block = |len: usize| {
        if len == 0 {
            0
        } else {
            (len + 8).next_multiple_of(16).max(32)
        }
    };
    let heap = match kind {
        NodeKind::Scalar { value, .. } => block(value.len()),
        NodeKind::Seq(_) | NodeKind::Map(_) => 32,
        NodeKind::Alias(_) => 0,
    };
    std::mem::size_of::<Node>() + 8 + heap + tag.map_or(0, |t| block(t.len()))
}

enum Frame {
    Seq {
        id: NodeId,
        anchor: usize,
        items: Vec<NodeId>,
    },
    Map {
        id: NodeId,
        anchor: usize,
        entries: Vec<(NodeId, NodeId)>,
        key: Option<NodeId>,
    },
}

struct Builder {
    doc: Document,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    tree_bytes: usize,
}

impl Builder {
    fn push_node(
        &mut self,
        pos: Pos,
        end_line: usize,
        kind: NodeKind,
        tag: Option<String>,
    ) -> Result<NodeId, SyntaxError> {
        self.tree_bytes += node_cost(&kind, tag.as_ref());
        if self.tree_bytes > MAX_TREE_BYTES {
            return Err(SyntaxError {
                pos,
                message: format!(
                    "the document is too large to read: its values (keys, items and aliases) take more than {} MiB here; kindling reads at most that much",
                    MAX_TREE_BYTES >> 20
                ),
            });
        }
        self.doc.nodes.push(Node {
            pos,
            end_line,
            kind,
            tag,
        });
        Ok(self.doc.nodes.len() - 1)
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn attach(&mut self, id: NodeId) {
        match self.stack.last_mut() {
            None => self.doc.root = Some(id),
            Some(Frame::Seq { items, .. }) => items.push(id),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(id),
                Some(k) => entries.push((k, id)),
            },
        }
    }

    fn finish(&mut self, id: NodeId, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id);
    }
}

fn tag_text(tag: Option<&yaml_events::Tag>) -> Option<String> {
    tag.map(|t| {
        if t.is_yaml_core_schema() {
            format!("!!{}", t.suffix)
        } else {
            format!("{}{}", t.handle, t.suffix)
        }
    })
}

/// Where a block scalar's `|` or `>` stands. The parser's span of an untagged block scalar begins
/// at its first non-blank content line; only blank lines (which belong to the content) and the
/// indicator's own line can precede it, so the indicator is on the last non-blank line before.
fn block_indicator(lines: &Lines, content: Pos) -> Pos {
    let starts_here = lines
        .get(content.line.wrapping_sub(1))
        .and_then(|l| l.chars().nth(content.col - 1))
        .is_some_and(|c| matches!(c, '|' | '>' | '!' | '&'));
    if starts_here {
        return content;
    }
    let Some((line, text)) = lines.last_before(content.line, |l| !l.trim().is_empty()) else {
        return content;
    };
    // The indicator is the last `|` or `>` before any comment on that line.
    let code = text.split(" #").next().unwrap_or(text);
    match code.char_indices().rfind(|(_, c)| matches!(c, '|' | '>')) {
        Some((byte, _)) => Pos::new(line, code[..byte].chars().count() + 1),
        None => content,
    }
}

/// Places a scanner error for a reader. The scanner notices a plain scalar that lacks its `:`
/// only at the next token, often lines later or at the end of input; the scalar itself is on
/// the last line with content before that point, which is where the reader has to look.
fn located(lines: &Lines, line: usize, col: usize, info: &str) -> SyntaxError {
    let past_end = line > lines.len() || lines.blank_from(line - 1);
    if info.contains("simple key expect ':'") || past_end {
        let content = lines.last_before(line, |l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        });
        if let Some((l, text)) = content {
            let indent = text.chars().take_while(|c| c.is_whitespace()).count();
            let message = if info.contains("simple key expect ':'") {
                "could not find the expected ':' after this key (a line of plain text inside a mapping)".to_string()
            } else {
                info.to_string()
            };
            return SyntaxError {
                pos: Pos::new(l, indent + 1),
                message,
            };
        }
    }
    SyntaxError {
        pos: Pos::new(line, col),
        message: info.to_string(),
    }
}

/// A scanner error as saphyr reports it, before it is placed for a reader.
struct RawError {
    /// 1-based line, 0-based column in characters.
    line: usize,
    col: usize,
    info: String,
}

/// At most this many quoted scalars are re-indented in one document; each costs a parse, and no
/// real config has more than a few.
const MAX_RELAXED: usize = 64;

/// Parses the first YAML document of `text`. Later documents are only located.
///
/// A quoted scalar whose continuation lines are indented less than its key is valid for
/// libyaml and yaml.v3 (the reference's parser), which do not check the indentation of quoted
/// scalars, but not for saphyr. Leading blanks of a quoted scalar's continuation lines are not
/// part of its value, so such a document is read from a copy where those lines are indented
/// enough: the value is the reference's, and positions are mapped back to the text.
pub fn parse(text: &str) -> Result<Document, SyntaxError> {
    let mut work = std::borrow::Cow::Borrowed(text);
    let mut shifts: Vec<Shift> = Vec::new();
    let mut relaxed: Vec<SyntaxError> = Vec::new();
    loop {
        let err = match parse_text(&work) {
            Ok(mut doc) => {
                for node in &mut doc.nodes {
                    node.pos = unshift(&shifts, node.pos);
                }
                for pos in &mut doc.extra_documents {
                    *pos = unshift(&shifts, *pos);
                }
                doc.relaxed = relaxed;
                return Ok(doc);
            }
            Err(e) => e,
        };
        let fixed = match err.1.as_ref() {
            Some(raw) if relaxed.len() < MAX_RELAXED => relax_quoted(&work, raw),
            _ => None,
        };
        let Some(fix) = fixed else {
            let mut e = err.0;
            e.pos = unshift(&shifts, e.pos);
            let at_marker = err.1.as_ref().is_some_and(|raw| {
                raw.info == "invalid indentation in quoted scalar"
                    && quoted_scalar_extent(&work, raw).is_some_and(|x| x.indicator.is_some())
            });
            if at_marker {
                // libyaml's reason, which is why the reference rejects this one too.
                e.message =
                    "while scanning a quoted scalar, found unexpected document indicator".into();
            } else if relaxed.len() >= MAX_RELAXED
                && err
                    .1
                    .as_ref()
                    .is_some_and(|raw| relax_quoted(&work, raw).is_some())
            {
                e.message = format!(
                    "{} (kindling reads at most {MAX_RELAXED} quoted scalars indented less than \
                     their key in one document)",
                    e.message
                );
            }
            return Err(e);
        };
        let mut warning = fix.warning;
        warning.pos = unshift(&shifts, warning.pos);
        relaxed.push(warning);
        shifts.extend(fix.shifts);
        work = std::borrow::Cow::Owned(fix.text);
    }
}

/// One parse of `text`, with saphyr's own error beside the placed one.
fn parse_text(text: &str) -> Result<Document, (SyntaxError, Option<RawError>)> {
    let mut parser = Events::new(text);
    let mut b = Builder {
        doc: Document::default(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        tree_bytes: 0,
    };
    let lines = Lines::yaml(text);
    let mut documents = 0usize;
    let mut in_first = false;
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                if documents > 1 {
                    // A fault inside an ignored document changes nothing kindling reads.
                    break;
                }
                let raw = RawError {
                    line: e.marker().line().max(1),
                    col: e.marker().col(),
                    info: e.info().to_string(),
                };
                return Err((located(&lines, raw.line, raw.col + 1, &raw.info), Some(raw)));
            }
        };
        let pos = start_of(&span);
        let is_seq = matches!(event, Event::SequenceStart(..));
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                in_first = documents == 1;
                if documents > 1 {
                    b.doc.extra_documents.push(pos);
                }
            }
            Event::DocumentEnd => in_first = false,
            _ if !in_first => {}
            Event::Alias(anchor) => {
                let Some(&target) = b.anchors.get(&anchor) else {
                    return Err((
                        SyntaxError {
                            pos,
                            message: "alias refers to an anchor that is not defined before it"
                                .into(),
                        },
                        None,
                    ));
                };
                let id = b
                    .push_node(pos, span.end.line(), NodeKind::Alias(target), None)
                    .map_err(|e| (e, None))?;
                b.attach(id);
            }
            Event::Scalar(value, style, anchor, tag) => {
                let pos = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    block_indicator(&lines, pos)
                } else {
                    pos
                };
                let id = b
                    .push_node(
                        pos,
                        span.end.line(),
                        NodeKind::Scalar {
                            value: value.into_owned(),
                            style: style.into(),
                        },
                        tag_text(tag.as_deref()),
                    )
                    .map_err(|e| (e, None))?;
                b.finish(id, anchor);
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err((
                        SyntaxError {
                            pos,
                            message: format!("nesting is deeper than {MAX_DEPTH} levels"),
                        },
                        None,
                    ));
                }
                let kind = if is_seq {
                    NodeKind::Seq(Vec::new())
                } else {
                    NodeKind::Map(Vec::new())
                };
                let id = b
                    .push_node(pos, pos.line, kind, tag_text(tag.as_deref()))
                    .map_err(|e| (e, None))?;
                b.stack.push(if is_seq {
                    Frame::Seq {
                        id,
                        anchor,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        id,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = b.stack.pop() else { continue };
                let (id, anchor) = match frame {
                    Frame::Seq { id, anchor, items } => {
                        b.doc.nodes[id].kind = NodeKind::Seq(items);
                        (id, anchor)
                    }
                    Frame::Map {
                        id,
                        anchor,
                        entries,
                        ..
                    } => {
                        b.doc.nodes[id].kind = NodeKind::Map(entries);
                        (id, anchor)
                    }
                };
                b.doc.nodes[id].end_line = span.end.line();
                b.finish(id, anchor);
            }
        }
    }
    Ok(b.doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(doc: &Document, id: NodeId) -> &str {
        match &doc.node(id).kind {
            NodeKind::Scalar { value, .. } => value,
            k => panic!("not a scalar: {k:?}"),
        }
    }

    #[test]
    fn keeps_positions_styles_and_tags() {
        let doc = parse("#cloud-config\na: |\n  x\nb: !!binary aGk=\nc: 'q'\n").unwrap();
        let root = doc.root.unwrap();
        let NodeKind::Map(entries) = &doc.node(root).kind else {
            panic!()
        };
        assert_eq!(entries.len(), 3);
        let (ka, va) = entries[0];
        assert_eq!(doc.node(ka).pos, Pos::new(2, 1));
        assert_eq!(doc.node(va).pos, Pos::new(2, 4));
        assert!(matches!(
            doc.node(va).kind,
            NodeKind::Scalar {
                style: Style::Literal,
                ..
            }
        ));
        assert_eq!(scalar(&doc, va), "x\n");
        assert!(doc.node(entries[1].1).is_binary());
        assert!(matches!(
            doc.node(entries[2].1).kind,
            NodeKind::Scalar {
                style: Style::SingleQuoted,
                ..
            }
        ));
    }

    #[test]
    fn block_scalars_sit_at_their_indicator() {
        let doc =
            parse("a: |\n\n  x\nb: >-  # c\n  z\nc: !!binary |\n  aGk=\nd:\n  |\n  w\n").unwrap();
        let NodeKind::Map(entries) = &doc.node(doc.root.unwrap()).kind else {
            panic!()
        };
        let at: Vec<Pos> = entries.iter().map(|(_, v)| doc.node(*v).pos).collect();
        assert_eq!(
            at,
            vec![
                Pos::new(1, 4),
                Pos::new(4, 4),
                Pos::new(6, 4),
                Pos::new(9, 3)
            ]
        );
    }

    #[test]
    fn aliases_point_at_their_anchor() {
        let doc = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        let NodeKind::Map(entries) = &doc.node(doc.root.unwrap()).kind else {
            panic!()
        };
        let b = entries[1].1;
        assert!(matches!(doc.node(b).kind, NodeKind::Alias(_)));
        assert_eq!(doc.resolve(b), entries[0].1);
        assert_eq!(doc.node(b).pos, Pos::new(2, 4));
    }

    #[test]
    fn self_referencing_alias_is_an_error_not_a_cycle() {
        assert!(parse("a: &x [*x]\n").is_err());
    }

    #[test]
    fn later_documents_are_located_not_read() {
        let doc = parse("a: 1\n---\nb: [\n").unwrap_or_default();
        assert_eq!(doc.extra_documents, vec![Pos::new(2, 1)]);
        let doc = parse("a: 1\n---\nb: 2\n--- \nc: 3\n").unwrap();
        assert_eq!(doc.extra_documents.len(), 2);
    }

    #[test]
    fn syntax_errors_carry_the_problem_mark() {
        let e = parse("#cloud-config\nhostname: a\ncoreos:\n\tupdate:\n").unwrap_err();
        assert_eq!(e.pos.line, 4);
        let e = parse("#cloud-config\na: \"abc\nb: 1\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
    }

    #[test]
    fn a_key_without_colon_is_reported_on_its_own_line() {
        // reference.md §7.1 vector 23.
        assert_eq!(parse("a:\na\n").unwrap_err().pos.line, 2);
        assert_eq!(parse("#hello\na:\na").unwrap_err().pos.line, 3);
        assert_eq!(parse("a:\na\nb: 1\n").unwrap_err().pos.line, 2);
        assert_eq!(parse("x: 1\nfoo\n\n\n# c\n").unwrap_err().pos.line, 2);
        assert!(parse("a:\na\n").unwrap_err().message.contains("':'"));
    }

    #[test]
    fn empty_and_comment_only_documents_have_no_root() {
        assert_eq!(parse("").unwrap().root, None);
        assert_eq!(parse("#cloud-config\n# nothing\n").unwrap().root, None);
    }

    #[test]
    fn deep_nesting_is_refused() {
        // saphyr refuses first (its own recursion limit); either way it is an error, no overflow.
        assert!(parse(&"[".repeat(MAX_DEPTH + 10)).is_err());
        assert!(parse(&"- ".repeat(100_000)).is_err());
    }

    /// The document as JSON, every scalar as its string (for comparison with libyaml's output).
    fn to_json(doc: &Document, id: NodeId) -> serde_json::Value {
        match &doc.node(doc.resolve(id)).kind {
            NodeKind::Scalar { value, .. } => serde_json::Value::String(value.clone()),
            NodeKind::Seq(items) => items.iter().map(|i| to_json(doc, *i)).collect(),
            NodeKind::Map(entries) => entries
                .iter()
                .map(|(k, v)| (scalar(doc, *k).to_string(), to_json(doc, *v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            NodeKind::Alias(_) => unreachable!(),
        }
    }

    /// Issue 8 item 7. Expected values are PyYAML's with libyaml (`yaml.CLoader`, the C
    /// library yaml.v3 was ported from), scalars as strings; `None` where libyaml rejects.
    #[test]
    fn issue8_under_indented_quoted_scalars_read_as_libyaml_reads_them() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "a:\n  b:\n    c: 'x\n  y\n\n z\n'\n  d: 1\n",
                Some(r#"{"a": {"b": {"c": "x y\nz "}, "d": "1"}}"#),
            ),
            (
                "a:\n  b: \"x\\ty\n y\\\n z\n  \\\"q\\\" \"\n  d: 1\n",
                Some(r#"{"a": {"b": "x\ty yz \"q\" ", "d": "1"}}"#),
            ),
            ("a:\n  b: 'x\ny'\n", Some(r#"{"a": {"b": "x y"}}"#)),
            ("a:\n  b: 'x\n---\ny'\n", None),
            ("a:\n  b: 'x\n...\ny'\n", None),
            (
                "a:\n  b: 'x\n---x\ny'\n",
                Some(r#"{"a": {"b": "x ---x y"}}"#),
            ),
            ("a:\n  b: 'x\n--- \ny'\n", None),
            ("a:\n  b: x\n y\n", None),
            ("a:\n  b: x\ny\n", None),
            ("a:\n  b: 'x\n\ty'\n", Some(r#"{"a": {"b": "x y"}}"#)),
            ("a:\n  b: 'x\n \ty'\n", Some(r#"{"a": {"b": "x y"}}"#)),
            ("a:\n  b: ['x\ny']\n", Some(r#"{"a": {"b": ["x y"]}}"#)),
            ("a:\n  - 'x\n y'\n  - z\n", Some(r#"{"a": ["x y", "z"]}"#)),
            (
                "a:\n  b: 'x\n y' # c\n  d: 2\n",
                Some(r#"{"a": {"b": "x y", "d": "2"}}"#),
            ),
            (
                "a:\n  b: 'x\n'\nc: 3\n",
                Some(r#"{"a": {"b": "x "}, "c": "3"}"#),
            ),
            ("a:\n  b: 'x\ny\n", None),
            ("a:\n  'x\n y': 1\n", None),
            ("a:\r\n  b: 'x\r\n y'\r\n", Some(r#"{"a": {"b": "x y"}}"#)),
            ("b: 'x\ny'\n", Some(r#"{"b": "x y"}"#)),
            ("a:\n  b: 'x\n': 1\n", None),
            ("a:\n  b: \"x\\\ny\"\n", Some(r#"{"a": {"b": "xy"}}"#)),
            (
                "a:\n  b:\n    - c: 'x\n y'\n      d: 2\n",
                Some(r#"{"a": {"b": [{"c": "x y", "d": "2"}]}}"#),
            ),
            (
                "a:\n  b: ['x\ny', z]\n",
                Some(r#"{"a": {"b": ["x y", "z"]}}"#),
            ),
            (
                "a:\n  b: 'x\n  '\n  c: 1\n",
                Some(r#"{"a": {"b": "x ", "c": "1"}}"#),
            ),
        ];
        for (text, want) in cases {
            let got = parse(text);
            match want {
                None => assert!(got.is_err(), "{text:?} parsed: {got:?}"),
                Some(want) => {
                    let doc = got.unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
                    let want: serde_json::Value = serde_json::from_str(want).unwrap();
                    assert_eq!(to_json(&doc, doc.root.unwrap()), want, "{text:?}");
                    assert!(!doc.relaxed.is_empty(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn issue8_relaxed_scalars_keep_positions_of_the_text() {
        // coreos-cloudinit's own TestCloudConfig (config/config_test.go).
        let text = "coreos: \n  units:\n    - name: 50-eth0.network\n      runtime: yes\n      content: '[Match]\n \n    Name=eth47\n \n \n    [Network]\n \n    Address=10.209.171.177/19\n \n'\n  oem:\n    id: rackspace\nhostname: trontastic\n";
        let doc = parse(text).unwrap();
        let json = to_json(&doc, doc.root.unwrap());
        assert_eq!(
            json["coreos"]["units"][0]["content"],
            "[Match]\nName=eth47\n\n[Network]\nAddress=10.209.171.177/19\n"
        );
        assert_eq!(doc.relaxed.len(), 1);
        assert_eq!(doc.relaxed[0].pos, Pos::new(7, 5));
        assert!(doc.relaxed[0]
            .message
            .starts_with("this line continues the single-quoted scalar opened on line 5"));
        let at = |key: &str| {
            doc.nodes
                .iter()
                .find(|n| matches!(&n.kind, NodeKind::Scalar { value, .. } if value == key))
                .map(|n| n.pos)
        };
        assert_eq!(at("oem"), Some(Pos::new(15, 3)));
        assert_eq!(at("hostname"), Some(Pos::new(17, 1)));
        assert_eq!(
            at("[Match]\nName=eth47\n\n[Network]\nAddress=10.209.171.177/19\n"),
            Some(Pos::new(5, 16))
        );
        // After the closing quote on a shifted line, columns are the text's.
        let doc = parse("a:\n  b: ['x\ny', z]\n").unwrap();
        assert_eq!(at_value(&doc, "z"), Some(Pos::new(3, 5)));
        // An error after a relaxed scalar is placed in the text, too.
        let e = parse("a:\n  b: 'x\ny', ]\n").unwrap_err();
        assert_eq!(e.pos.line, 3, "{e:?}");
        assert!(e.pos.col <= 6, "{e:?}");
    }

    fn at_value(doc: &Document, v: &str) -> Option<Pos> {
        doc.nodes
            .iter()
            .find(|n| matches!(&n.kind, NodeKind::Scalar { value, .. } if value == v))
            .map(|n| n.pos)
    }

    #[test]
    fn issue8_relaxing_is_bounded() {
        let one = "k: 'x\ny'\n";
        let text: String = (0..MAX_RELAXED)
            .map(|i| one.replace('k', &format!("k{i}")))
            .collect();
        let doc = parse(&text).unwrap();
        assert_eq!(doc.relaxed.len(), MAX_RELAXED);
        let e = parse(&format!("{text}last: 'x\ny'\n")).unwrap_err();
        assert_eq!(e.pos, Pos::new(2 * MAX_RELAXED + 1, 7));
        assert!(e.message.contains("at most 64"), "{e:?}");
    }

    #[test]
    fn issue8_document_marker_inside_a_quoted_scalar_is_still_an_error() {
        let e = parse("a:\n  b: 'x\n  y\n---\nz'\n").unwrap_err();
        assert!(e.message.contains("document indicator"), "{e:?}");
        assert_eq!(e.pos, Pos::new(2, 6));
    }

    #[test]
    fn crlf_counts_as_one_line_end() {
        let doc = parse("#cloud-config\r\na: 1\r\nb: 2\r\n").unwrap();
        let NodeKind::Map(entries) = &doc.node(doc.root.unwrap()).kind else {
            panic!()
        };
        assert_eq!(doc.node(entries[1].0).pos, Pos::new(3, 1));
    }

    #[test]
    fn the_tree_is_bounded_in_memory() {
        // 1.5 million aliases take more than MAX_TREE_BYTES; refused with a clear message at the
        // node that crossed the line, not after memory runs out.
        let text = format!("a: &x 1\nb: [{}]\n", "*x,".repeat(1_500_000));
        let e = parse(&text).unwrap_err();
        assert_eq!(e.pos.line, 2);
        assert!(
            e.message.starts_with("the document is too large to read"),
            "{}",
            e.message
        );
        // A million fit: the flat repetition the issue measured is read (and deduplicated later).
        let text = format!("a: &x 1\nb: [{}]\n", "*x,".repeat(1_000_000));
        assert!(parse(&text).is_ok());
    }
}
