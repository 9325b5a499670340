//! The module graph stays a layering: no cycle between the top-level modules nor between the
//! submodules of one module, and every top-level module appears in `src/lib.rs`'s module map,
//! whose order (top down) every `crate::` reference must follow.
//!
//! The graph is read from the source text, not from rustc: every `crate::`/`super::`/`self::`
//! path in a `use` tree or in code, with comments and string literals blanked out first (a doc
//! link is not a dependency). Test code counts like any other: a unit test that reaches up a layer
//! could not run without the layer above, so it is kept out the same way (a test that needs the
//! whole program belongs in `tests/`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where a reference was written: file (relative to the crate) and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    file: String,
    line: usize,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One `.rs` file of the library and the module path it defines (`[]` for `lib.rs`).
struct SourceFile {
    rel: String,
    module: Vec<String>,
    text: String,
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The library's files. `main.rs` is the binary: it reaches the library as `kindling::`.
fn library(src: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let rel = path.strip_prefix(src).unwrap();
        if rel == Path::new("main.rs") {
            continue;
        }
        let mut module: Vec<String> = rel
            .with_extension("")
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|m| m == "mod") || module == ["lib"] {
            module.pop();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let rel = Path::new("src").join(rel).to_string_lossy().into_owned();
        files.push(SourceFile { rel, module, text });
    }
    files
}

/// `text` with comments, string and char literals replaced by spaces (newlines kept, so line
/// numbers hold). Lifetimes stay.
fn blank(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let keep_lines = |s: &[char], out: &mut String| {
        for &ch in s {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
    };
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        let ident_before = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|&ch| ch == '\n').unwrap_or(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(&['/', '*']) {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(&['*', '/']) {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            keep_lines(&rest[..j.min(rest.len())], &mut out);
            i += j;
        } else if !ident_before && raw_string_len(rest).is_some() {
            let len = raw_string_len(rest).unwrap();
            keep_lines(&rest[..len], &mut out);
            i += len;
        } else if rest[0] == '"' || (!ident_before && rest.starts_with(&['b', '"'])) {
            let open = if rest[0] == '"' { 1 } else { 2 };
            let mut j = open;
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == '\'' {
            // A char literal is `'x'` or `'\…'`; anything else is a lifetime or a label.
            let len = if rest.get(1) == Some(&'\\') {
                rest.iter()
                    .skip(2)
                    .position(|&ch| ch == '\'')
                    .map(|p| p + 3)
            } else if rest.get(2) == Some(&'\'') {
                Some(3)
            } else {
                None
            };
            match len {
                Some(len) => {
                    keep_lines(&rest[..len], &mut out);
                    i += len;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) starting `s`, if one does.
fn raw_string_len(s: &[char]) -> Option<usize> {
    let start = match s {
        ['r', ..] => 1,
        ['b', 'r', ..] => 2,
        _ => return None,
    };
    let hashes = s[start..].iter().take_while(|&&ch| ch == '#').count();
    if s.get(start + hashes) != Some(&'"') {
        return None;
    }
    let body = start + hashes + 1;
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    (body..s.len())
        .find(|&j| s[j..].starts_with(&close))
        .map(|j| j + close.len())
        .or(Some(s.len()))
}

/// A token of blanked source: an identifier (or keyword), `::`, or one punctuation character.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
}

fn tokens(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let mut word: String = c[start..i].iter().collect();
            if word == "r" && c.get(i) == Some(&'#') {
                // A raw identifier, `r#type`.
                let s = i + 1;
                i = s;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                word = c[s..i].iter().collect();
            }
            out.push(Token { text: word, line });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// A path written in the source, as its segments, with the module it was written in.
struct Reference {
    from: Vec<String>,
    path: Vec<String>,
    site: Site,
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Expands the use tree starting at `toks[*i]` under `prefix`, advancing past it.
fn use_tree(
    toks: &[Token],
    i: &mut usize,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, usize)>,
) {
    let depth = prefix.len();
    let mut line = toks.get(*i).map_or(0, |t| t.line);
    while let Some(t) = toks.get(*i) {
        match t.text.as_str() {
            "{" => {
                *i += 1;
                loop {
                    use_tree(toks, i, prefix, out);
                    match toks.get(*i).map(|t| t.text.as_str()) {
                        Some(",") => *i += 1,
                        Some("}") => {
                            *i += 1;
                            break;
                        }
                        _ => break,
                    }
                    if toks.get(*i).is_some_and(|t| t.text == "}") {
                        *i += 1;
                        break;
                    }
                }
                prefix.truncate(depth);
                return;
            }
            "::" => *i += 1,
            "*" => {
                *i += 1;
                out.push((prefix.clone(), line));
                prefix.truncate(depth);
                return;
            }
            // `{self, …}` names the prefix itself.
            "self" if !prefix.is_empty() => {
                out.push((prefix.clone(), t.line));
                *i += 1;
            }
            "as" => {
                // `x as y`: the alias is not part of the path.
                *i += 2;
            }
            text if is_ident(text) => {
                line = t.line;
                prefix.push(text.to_string());
                *i += 1;
            }
            _ => break,
        }
    }
    if prefix.len() > depth {
        out.push((prefix.clone(), line));
    }
    prefix.truncate(depth);
}

/// Every anchored path (`crate::`, `super::`, `self::`) of a file, and the `pub use` re-exports
/// of its own children, with the (inline) module each was written in.
fn references(
    file: &SourceFile,
    reexports: &mut BTreeMap<Vec<String>, BTreeMap<String, String>>,
) -> Vec<Reference> {
    let toks = tokens(&blank(&file.text));
    let mut out = Vec::new();
    // The inline modules open at this point, with the brace depth at which each closes.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let here = |inline: &[(String, usize)]| {
            let mut m = file.module.clone();
            m.extend(inline.iter().map(|(n, _)| n.clone()));
            m
        };
        let t = toks[i].text.as_str();
        match t {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if toks.get(i + 2).is_some_and(|t| t.text == "{") => {
                inline.push((toks[i + 1].text.clone(), depth));
                depth += 1;
                i += 3;
                continue;
            }
            "use" => {
                let public = i > 0 && matches!(toks[i - 1].text.as_str(), "pub" | ")");
                let mut paths = Vec::new();
                let mut j = i + 1;
                use_tree(&toks, &mut j, &mut Vec::new(), &mut paths);
                let from = here(&inline);
                for (path, line) in paths {
                    let anchored = matches!(path[0].as_str(), "crate" | "super" | "self");
                    if public && inline.is_empty() && path.len() >= 2 {
                        // `pub use child::Item`: a name of this module that is the child's.
                        let start = usize::from(path[0] == "self");
                        if !anchored || path[0] == "self" {
                            reexports
                                .entry(from.clone())
                                .or_default()
                                .insert(path[path.len() - 1].clone(), path[start].clone());
                        }
                    }
                    if anchored {
                        out.push(Reference {
                            from: from.clone(),
                            path,
                            site: Site {
                                file: file.rel.clone(),
                                line,
                            },
                        });
                    }
                }
                i = j;
                continue;
            }
            "crate" | "super" | "self"
                if toks.get(i + 1).is_some_and(|t| t.text == "::")
                    && (i == 0 || toks[i - 1].text != "::") =>
            {
                let line = toks[i].line;
                let mut path = vec![t.to_string()];
                let mut j = i + 1;
                while toks.get(j).is_some_and(|t| t.text == "::")
                    && toks.get(j + 1).is_some_and(|t| is_ident(&t.text))
                {
                    path.push(toks[j + 1].text.clone());
                    j += 2;
                }
                out.push(Reference {
                    from: here(&inline),
                    path,
                    site: Site {
                        file: file.rel.clone(),
                        line,
                    },
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The absolute path a reference names.
fn resolve(from: &[String], path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = from.to_vec();
    let mut rest = path;
    if rest.first().is_some_and(|s| s == "crate") {
        base.clear();
        rest = &rest[1..];
    }
    while let Some(first) = rest.first() {
        match first.as_str() {
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    base
}

/// Edges between sibling modules, keyed by their parent: parent -> (from, to) -> sites.
type Graph = BTreeMap<Vec<String>, BTreeMap<(String, String), Vec<Site>>>;

struct Crate {
    graph: Graph,
    top_level: BTreeSet<String>,
    lib_doc: String,
}

fn read_crate(src: &Path) -> Crate {
    let files = library(src);
    let modules: BTreeSet<Vec<String>> = files
        .iter()
        .flat_map(|f| (1..=f.module.len()).map(|n| f.module[..n].to_vec()))
        .collect();
    let mut reexports = BTreeMap::new();
    let refs: Vec<Reference> = files
        .iter()
        .flat_map(|f| references(f, &mut reexports))
        .collect();
    let mut graph = Graph::new();
    for r in refs {
        let target = resolve(&r.from, &r.path);
        let k = r
            .from
            .iter()
            .zip(&target)
            .take_while(|(a, b)| a == b)
            .count();
        // A module's own items and its descendants are inside it; its ancestors' items are the
        // context it lives in. Neither is an edge between siblings.
        if k >= r.from.len() || k >= target.len() {
            continue;
        }
        let mut to = target[k].clone();
        if !modules.contains(&target[..=k]) {
            // A name the parent re-exports from one of its children is that child's.
            match reexports.get(&target[..k]).and_then(|m| m.get(&to)) {
                Some(child) if modules.contains(&[&target[..k], &[child.clone()][..]].concat()) => {
                    to = child.clone();
                }
                _ => continue,
            }
        }
        let from = r.from[k].clone();
        if from == to {
            continue;
        }
        graph
            .entry(target[..k].to_vec())
            .or_default()
            .entry((from, to))
            .or_default()
            .push(r.site);
    }
    let top_level = modules
        .iter()
        .filter(|m| m.len() == 1)
        .map(|m| m[0].clone())
        .collect();
    let lib_doc = files
        .iter()
        .find(|f| f.module.is_empty())
        .map(|f| f.text.clone())
        .unwrap_or_default();
    Crate {
        graph,
        top_level,
        lib_doc,
    }
}

fn name(parent: &[String], module: &str) -> String {
    if parent.is_empty() {
        module.to_string()
    } else {
        format!("{}::{module}", parent.join("::"))
    }
}

/// Each cycle among siblings, as the edges that close it, one per strongly connected component
/// (Tarjan's algorithm), with where each edge is written.
fn cycles(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (parent, edges) in graph {
        let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in edges.keys() {
            next.entry(a).or_default().push(b);
            next.entry(b).or_default();
        }
        for component in strongly_connected(&next) {
            // A shortest way round: from the first member back to itself.
            let start = component[0];
            let inside: BTreeSet<&str> = component.iter().copied().collect();
            let path = shortest_cycle(&next, &inside, start);
            let mut text = String::new();
            let ring: Vec<String> = path.iter().map(|m| name(parent, m)).collect();
            writeln!(text, "cycle: {} -> {}", ring.join(" -> "), ring[0]).unwrap();
            for w in 0..path.len() {
                let (a, b) = (path[w], path[(w + 1) % path.len()]);
                let sites = &edges[&(a.to_string(), b.to_string())];
                let mut at: Vec<String> = sites.iter().map(Site::to_string).collect();
                at.dedup();
                writeln!(
                    text,
                    "  {} uses {} at {}",
                    name(parent, a),
                    name(parent, b),
                    at.join(", ")
                )
                .unwrap();
            }
            found.push(text);
        }
    }
    found
}

fn strongly_connected<'a>(next: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    struct Walk<'a, 'g> {
        next: &'g BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(w: &mut Walk<'a, '_>, v: &'a str) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        for &u in &w.next[v] {
            if !w.index.contains_key(u) {
                visit(w, u);
                let low = w.low[v].min(w.low[u]);
                w.low.insert(v, low);
            } else if w.stack.contains(&u) {
                let low = w.low[v].min(w.index[u]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let at = w.stack.iter().rposition(|&x| x == v).unwrap();
            let mut component = w.stack.split_off(at);
            if component.len() > 1 {
                component.sort();
                w.out.push(component);
            }
        }
    }
    let mut w = Walk {
        next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for &v in next.keys() {
        if !w.index.contains_key(v) {
            visit(&mut w, v);
        }
    }
    w.out
}

/// The shortest way from `start` back to itself, through `inside` only.
fn shortest_cycle<'a>(
    next: &BTreeMap<&'a str, Vec<&'a str>>,
    inside: &BTreeSet<&'a str>,
    start: &'a str,
) -> Vec<&'a str> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &u in &next[v] {
            if !inside.contains(u) {
                continue;
            }
            if u == start {
                let mut path = vec![v];
                while *path.last().unwrap() != start {
                    path.push(came_from[path.last().unwrap()]);
                }
                path.reverse();
                return path;
            }
            if !came_from.contains_key(u) {
                came_from.insert(u, v);
                queue.push_back(u);
            }
        }
    }
    vec![start]
}

/// The module map of `src/lib.rs`'s doc: the `//! - [`name`]` lines, in order.
fn module_map(lib_doc: &str) -> Vec<String> {
    lib_doc
        .lines()
        .filter_map(|l| l.strip_prefix("//! - [`"))
        .filter_map(|l| l.split_once("`]"))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// What is wrong with a crate's module layering, one message per problem.
fn problems(src: &Path) -> Vec<String> {
    let krate = read_crate(src);
    let mut out = cycles(&krate.graph);
    let map = module_map(&krate.lib_doc);
    for module in &krate.top_level {
        if !map.contains(module) {
            out.push(format!(
                "module `{module}` is missing from the module map in src/lib.rs: add a line \
                 `//! - [`{module}`]: what it owns` where it sits among the layers"
            ));
        }
    }
    for listed in &map {
        if !krate.top_level.contains(listed) {
            out.push(format!(
                "the module map in src/lib.rs lists `{listed}`, which is not a module of src/"
            ));
        }
    }
    let top = krate.graph.get(&Vec::new()).cloned().unwrap_or_default();
    let rank = |m: &str| map.iter().position(|x| x == m);
    for ((a, b), sites) in &top {
        if let (Some(ra), Some(rb)) = (rank(a), rank(b)) {
            if ra > rb {
                out.push(format!(
                    "`{a}` uses `{b}` at {}, but the module map in src/lib.rs lists `{b}` above \
                     `{a}`: a module uses only modules listed below it",
                    sites[0]
                ));
            }
        }
    }
    out
}

#[test]
fn the_module_graph_has_no_cycle_and_follows_the_map() {
    let problems = problems(&crate_dir().join("src"));
    assert!(
        problems.is_empty(),
        "the module layering is broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn nothing_uses_the_fuzzing_hub() {
    let krate = read_crate(&crate_dir().join("src"));
    let users: Vec<String> = krate.graph[&Vec::new()]
        .iter()
        .filter(|((_, b), _)| b == "fuzzing")
        .map(|((a, _), sites)| format!("{a} at {}", sites[0]))
        .collect();
    assert!(
        users.is_empty(),
        "the fuzz targets' hub is used by {users:?}"
    );
}

/// The check itself, on a crate written for it: it must see each kind of reference and name the
/// cycle with the place of every edge.
#[test]
fn a_cycle_is_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |rel: &str, text: &str| {
        let path = src.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "//! - [`high`]: above\n//! - [`low`]: below\npub mod high;\npub mod low;\n",
    );
    write("high.rs", "use crate::low::Thing;\n");
    // Comments, strings and doc links are no dependency; the inline path on line 5 is.
    write(
        "low/mod.rs",
        "// crate::high::X\n/// [`crate::high::Y`]\nconst S: &str = \"crate::high::Z\";\nconst R: &str = r#\"crate::high::W\"#;\nfn f() -> char { let _ = crate::high::g(); 'x' }\npub mod a;\npub mod b;\npub use b::Item;\n",
    );
    // Siblings: a -> b through the parent's re-export, b -> a through `super::`.
    write("low/a.rs", "use super::Item;\n");
    write(
        "low/b.rs",
        "pub struct Item;\n#[cfg(test)]\nmod tests {\n    use super::super::a;\n}\n",
    );
    let found = problems(src);
    let text = found.join("\n");
    assert!(text.contains("cycle: high -> low -> high"), "{text}");
    assert!(text.contains("high uses low at "), "{text}");
    assert!(text.contains("high.rs:1"), "{text}");
    assert!(text.contains("low uses high at "), "{text}");
    assert!(text.contains("low/mod.rs:5"), "{text}");
    assert!(
        !text.contains("low/mod.rs:1,") && !text.contains("low/mod.rs:2"),
        "{text}"
    );
    assert!(
        !text.contains("low/mod.rs:3") && !text.contains("low/mod.rs:4"),
        "{text}"
    );
    assert!(text.contains("cycle: low::a -> low::b -> low::a"), "{text}");
    assert!(text.contains("low/a.rs:1"), "{text}");
    assert!(text.contains("low/b.rs:4"), "{text}");
    assert!(
        text.contains("`low` uses `high` at src/low/mod.rs:5, but the module map"),
        "{text}"
    );

    // Without the wrong-way references, and with a module the map does not list.
    write("low/mod.rs", "pub mod a;\npub mod b;\npub use b::Item;\n");
    write("low/b.rs", "pub struct Item;\n");
    write("extra.rs", "");
    write(
        "lib.rs",
        "//! - [`high`]: above\n//! - [`low`]: below\npub mod extra;\npub mod high;\npub mod low;\n",
    );
    let found = problems(src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("module `extra` is missing from the module map"),
        "{found:?}"
    );
}
