//! Where in the input a converted step came from: the raw YAML of each cloud-config part, read
//! again only for positions (the values come from the plan), so findings carry line:column.

use crate::config::yaml::{Document, NodeId, NodeKind};
use crate::report::Pos;

/// The positions of one cloud-config part.
pub struct Locator {
    doc: Option<Document>,
    text: String,
    /// Line of the whole input where this part's text starts.
    first_line: usize,
    /// False when the part was decoded (base64, gzip): its lines are not the input's.
    verbatim: bool,
    /// `part 2` in a multipart document, None for a lone cloud-config.
    label: Option<String>,
}

/// A position in the whole input, with a note when the part's own line had to be given apart.
pub struct Place {
    pub pos: Pos,
    pub note: Option<String>,
}

fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || (x == b'-' && y == b'_') || (x == b'_' && y == b'-'))
}

impl Locator {
    /// The positions in `text`, read from `doc`, its YAML tree (None when it did not parse).
    pub fn new(
        text: &str,
        doc: Option<Document>,
        first_line: usize,
        verbatim: bool,
        label: Option<String>,
    ) -> Locator {
        Locator {
            doc,
            text: text.to_string(),
            first_line,
            verbatim,
            label,
        }
    }

    /// A place for a position inside this part (the part's start when the position is unknown).
    pub fn place(&self, pos: Option<Pos>) -> Place {
        let pos = pos.unwrap_or(Pos::new(1, 1));
        if self.verbatim {
            Place {
                pos: Pos::new(self.first_line + pos.line - 1, pos.col),
                note: None,
            }
        } else {
            Place {
                pos: Pos::new(self.first_line, 1),
                note: Some(format!(
                    "{}, line {}",
                    self.label.as_deref().unwrap_or("user-data"),
                    pos.line
                )),
            }
        }
    }

    fn doc(&self) -> Option<&Document> {
        self.doc.as_ref()
    }

    fn root(&self) -> Option<NodeId> {
        let doc = self.doc()?;
        doc.root.map(|r| doc.resolve(r))
    }

    /// The key's position and its value in a mapping node.
    fn get(&self, map: NodeId, key: &str) -> Option<(Pos, NodeId)> {
        let doc = self.doc()?;
        let NodeKind::Map(entries) = &doc.node(map).kind else {
            return None;
        };
        entries
            .iter()
            .rev()
            .find_map(|(k, v)| match &doc.node(*k).kind {
                NodeKind::Scalar { value, .. } if same_key(value, key) => {
                    Some((doc.node(*k).pos, doc.resolve(*v)))
                }
                _ => None,
            })
    }

    fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.doc()?.node(id).kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    fn items(&self, seq: NodeId) -> Vec<NodeId> {
        let Some(doc) = self.doc() else {
            return Vec::new();
        };
        match &doc.node(seq).kind {
            NodeKind::Seq(items) => items.iter().map(|i| doc.resolve(*i)).collect(),
            _ => Vec::new(),
        }
    }

    /// The first place where `needle` is written in the part's text.
    pub fn find_text(&self, needle: &str) -> Option<Pos> {
        self.find_text_from(needle, Pos::new(1, 1))
    }

    /// The first place at or after `from` where `needle` is written.
    pub fn find_text_from(&self, needle: &str, from: Pos) -> Option<Pos> {
        let mut start = 0;
        for _ in 1..from.line {
            start += self.text[start..].find('\n')? + 1;
        }
        let at = start + self.text[start..].find(needle)?;
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        Some(Pos::new(line, before[start..].chars().count() + 1))
    }

    /// A path of keys from the root: `["coreos", "flannel"]`.
    pub fn key(&self, path: &[&str]) -> Option<Pos> {
        let mut node = self.root()?;
        let mut pos = None;
        for k in path {
            let (p, v) = self.get(node, k)?;
            pos = Some(p);
            node = v;
        }
        pos
    }

    /// The last item of the list at `list` whose `field` satisfies `matches`, and the position
    /// of its `sub` key (or of the item when `sub` is absent from it).
    pub fn item(
        &self,
        list: &[&str],
        field: &str,
        matches: impl Fn(&str) -> bool,
        sub: Option<&str>,
    ) -> Option<Pos> {
        let mut node = self.root()?;
        for k in list {
            node = self.get(node, k)?.1;
        }
        let item = self.items(node).into_iter().rev().find(|i| {
            self.get(*i, field)
                .and_then(|(_, v)| self.scalar(v))
                .is_some_and(&matches)
        })?;
        let at = |k: &str| self.get(item, k).map(|(p, _)| p);
        sub.and_then(at)
            .or_else(|| at(field))
            .or_else(|| self.doc().map(|d| d.node(item).pos))
    }
}
