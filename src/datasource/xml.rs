//! A small, strict XML reader for the two documents kindling reads (waagent's SharedConfig.xml
//! and the VMware OVF environment): elements, attributes and text, by local name.

/// Deeper documents are refused: neither file nests more than a handful of levels.
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The local name (after any `prefix:`).
    pub name: String,
    /// `(local name, value)` in document order.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first attribute with this local name, whatever its namespace prefix.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn line(&self) -> usize {
        self.s.get(..self.pos).unwrap_or("").matches('\n').count() + 1
    }

    fn err(&self, message: impl std::fmt::Display) -> String {
        format!("line {}: {message}", self.line())
    }

    fn starts_with(&self, p: &str) -> bool {
        self.rest().starts_with(p)
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(is_xml_space).len();
    }

    /// Moves past `end`, returning what came before it.
    fn until(&mut self, end: &str, what: &str) -> Result<&'a str, String> {
        let rest = self.rest();
        match rest.find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(rest.get(..i).unwrap_or(""))
            }
            None => Err(self.err(format!("unterminated {what}"))),
        }
    }

    fn name(&mut self) -> Result<&'a str, String> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| is_xml_space(c) || matches!(c, '/' | '>' | '=' | '<' | '"' | '\''))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.err("expected a name"));
        }
        self.pos += len;
        Ok(rest.get(..len).unwrap_or(""))
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Replaces the predefined entities and character references; anything else is an error.
fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let after = rest.get(at + 1..).unwrap_or("");
        let end = after
            .find(';')
            .ok_or_else(|| "an '&' that does not start an entity".to_string())?;
        let entity = after.get(..end).unwrap_or("");
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    return Err(format!("unknown entity &{entity};"));
                };
                code.and_then(char::from_u32)
                    .filter(|c| *c != '\0')
                    .ok_or_else(|| format!("invalid character reference &{entity};"))?
            }
        };
        out.push(c);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses a whole document and returns its root element.
///
/// No DTD processing and no entity expansion beyond the predefined and numeric ones, so
/// "billion laughs" and external entities are not a concern; nesting depth is bounded and the
/// parser is iterative, so no input can exhaust the stack.
pub fn parse(input: &str) -> Result<Element, String> {
    let mut c = Cursor {
        s: input.strip_prefix('\u{feff}').unwrap_or(input),
        pos: 0,
    };
    let mut stack: Vec<(String, Element)> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        if root.is_some() {
            // Only comments, processing instructions and blanks may follow the root; the rest
            // is ignored rather than guessed at.
            return root.ok_or_else(|| c.err("no root element"));
        }
        if c.rest().is_empty() {
            return Err(match stack.last() {
                Some((q, _)) => c.err(format!("unexpected end of document inside <{q}>")),
                None => c.err("no root element"),
            });
        }
        if c.starts_with("<?") {
            c.until("?>", "processing instruction")?;
        } else if c.starts_with("<!--") {
            c.until("-->", "comment")?;
        } else if c.starts_with("<![CDATA[") {
            c.pos += "<![CDATA[".len();
            let text = c.until("]]>", "CDATA section")?;
            match stack.last_mut() {
                Some((_, e)) => e.text.push_str(text),
                None => return Err(c.err("text outside the root element")),
            }
        } else if c.starts_with("<!") {
            if !stack.is_empty() {
                return Err(c.err("declaration inside an element"));
            }
            skip_declaration(&mut c)?;
        } else if c.starts_with("</") {
            c.pos += 2;
            let name = c.name()?;
            c.skip_ws();
            if !c.starts_with(">") {
                return Err(c.err(format!("expected '>' after </{name}")));
            }
            c.pos += 1;
            let (open, done) = stack
                .pop()
                .ok_or_else(|| c.err(format!("</{name}> without an opening tag")))?;
            if open != name {
                return Err(c.err(format!("</{name}> closes <{open}>")));
            }
            match stack.last_mut() {
                Some((_, parent)) => parent.children.push(done),
                None => root = Some(done),
            }
        } else if c.starts_with("<") {
            c.pos += 1;
            let (qname, element, empty) = start_tag(&mut c)?;
            if empty {
                match stack.last_mut() {
                    Some((_, parent)) => parent.children.push(element),
                    None => root = Some(element),
                }
            } else {
                if stack.len() >= MAX_DEPTH {
                    return Err(c.err(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                stack.push((qname, element));
            }
        } else {
            let rest = c.rest();
            let len = rest.find('<').unwrap_or(rest.len());
            let raw = rest.get(..len).unwrap_or("");
            c.pos += len;
            match stack.last_mut() {
                Some((_, e)) => e.text.push_str(&unescape(raw).map_err(|m| c.err(m))?),
                None if raw.chars().all(is_xml_space) => {}
                None => return Err(c.err("text outside the root element")),
            }
        }
    }
}

/// `<!DOCTYPE ...>`, with an internal subset in brackets skipped whole (never interpreted).
fn skip_declaration(c: &mut Cursor) -> Result<(), String> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, ch) in c.rest().char_indices() {
        match (quote, ch) {
            (Some(q), _) if ch == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '>') if depth == 0 => {
                c.pos += i + 1;
                return Ok(());
            }
            _ => {}
        }
    }
    Err(c.err("unterminated declaration"))
}

/// After `<`: the name and attributes up to `>` or `/>`.
fn start_tag(c: &mut Cursor) -> Result<(String, Element, bool), String> {
    let qname = c.name()?.to_string();
    let mut element = Element {
        name: local(&qname).to_string(),
        ..Element::default()
    };
    loop {
        let had_space = {
            let before = c.pos;
            c.skip_ws();
            c.pos != before
        };
        if c.starts_with("/>") {
            c.pos += 2;
            return Ok((qname, element, true));
        }
        if c.starts_with(">") {
            c.pos += 1;
            return Ok((qname, element, false));
        }
        if c.rest().is_empty() {
            return Err(c.err(format!("unterminated tag <{qname}")));
        }
        if !had_space {
            return Err(c.err(format!("expected a space before an attribute in <{qname}>")));
        }
        let name = c.name()?;
        c.skip_ws();
        if !c.starts_with("=") {
            return Err(c.err(format!("attribute {name} in <{qname}> has no value")));
        }
        c.pos += 1;
        c.skip_ws();
        let quote = match c.rest().chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => return Err(c.err(format!("attribute {name} in <{qname}> is not quoted"))),
        };
        c.pos += 1;
        let raw = c.until(if quote == '"' { "\"" } else { "'" }, "attribute value")?;
        if raw.contains('<') {
            return Err(c.err(format!("'<' in the value of attribute {name}")));
        }
        let value = unescape(raw).map_err(|m| c.err(m))?;
        element.attrs.push((local(name).to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_attributes_and_text() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- comment -->
<!DOCTYPE x [ <!ENTITY a "b"> ]>
<oe:Environment xmlns:oe="urn:x" oe:id='1'>
  <PropertySection>
    <Property oe:key="a" oe:value="x &amp; y&#10;z"/>
    <Property oe:key="b" oe:value="&#x41;"></Property>
  </PropertySection>
  <Text>one &lt;two&gt; <![CDATA[<three>]]></Text>
</oe:Environment>
trailing"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Environment");
        assert_eq!(root.attr("id"), Some("1"));
        let props: Vec<_> = root
            .child("PropertySection")
            .unwrap()
            .children_named("Property")
            .map(|p| (p.attr("key").unwrap(), p.attr("value").unwrap()))
            .collect();
        assert_eq!(props, vec![("a", "x & y\nz"), ("b", "A")]);
        assert_eq!(root.child("Text").unwrap().text, "one <two> <three>");
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            "",
            "   ",
            "<a>",
            "<a></b>",
            "</a>",
            "<a b></a>",
            "<a b=c></a>",
            "<a b=\"c></a>",
            "<a>&bogus;</a>",
            "<a>&#0;</a>",
            "<a>&#xFFFFFFFF;</a>",
            "<a>&amp</a>",
            "text<a/>",
            "<!-- x",
            "<a><!DOCTYPE b></a>",
            "<a b=\"<\"/>",
            "<a\"/>",
            "<",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let doc = "<a>".repeat(100_000);
        assert!(parse(&doc).unwrap_err().contains("deeper"));
    }
}
