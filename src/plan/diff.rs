//! A small line diff in unified format for `kindling plan`. Files kindling writes are short;
//! past a size bound the changed middle is shown as replaced rather than aligned line by line.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    Delete,
    Insert,
}

/// Above this many line pairs in the changed middle, no alignment is attempted.
const MAX_CELLS: usize = 4_000_000;

/// The edit script turning `a` into `b`: common prefix and suffix, and an LCS alignment of the
/// middle when it is small enough.
fn script<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<(Op, &'t str)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<(Op, &str)> = a[..prefix].iter().map(|l| (Op::Equal, *l)).collect();
    if ma.len().saturating_mul(mb.len()) <= MAX_CELLS {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() && j < mb.len() {
            if ma[i] == mb[j] {
                out.push((Op::Equal, ma[i]));
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                out.push((Op::Delete, ma[i]));
                i += 1;
            } else {
                out.push((Op::Insert, mb[j]));
                j += 1;
            }
        }
        out.extend(ma[i..].iter().map(|l| (Op::Delete, *l)));
        out.extend(mb[j..].iter().map(|l| (Op::Insert, *l)));
    } else {
        out.extend(ma.iter().map(|l| (Op::Delete, *l)));
        out.extend(mb.iter().map(|l| (Op::Insert, *l)));
    }
    out.extend(a[a.len() - suffix..].iter().map(|l| (Op::Equal, *l)));
    out
}

/// `start,len` as unified diffs write it: the line before an empty range, `,len` left out
/// when it is 1.
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{},0", start.saturating_sub(1)),
        1 => format!("{start}"),
        n => format!("{start},{n}"),
    }
}

/// Past this many lines on either side no lines are shown: drawing the diff holds about 100
/// bytes a line, and a 16 MiB unit of line breaks would take most of a gigabyte.
const MAX_LINES: usize = 100_000;

/// A unified diff of `old` and `new` with `context` lines around each change; empty when equal.
pub fn unified(old: &str, new: &str, from: &str, to: &str, context: usize) -> String {
    let (na, nb) = (
        old.split_inclusive('\n').count(),
        new.split_inclusive('\n').count(),
    );
    if na.max(nb) > MAX_LINES {
        if old == new {
            return String::new();
        }
        return format!(
            "--- {from}\n+++ {to}\n@@ -{} +{} @@ the lines are not shown: kindling shows the diff of files up to {MAX_LINES} lines\n",
            range(1, na),
            range(1, nb)
        );
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = script(&a, &b);
    let changes: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].0 != Op::Equal).collect();
    if changes.is_empty() {
        return String::new();
    }
    // Hunks: runs of changes whose gaps are at most 2 * context equal lines.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &c in &changes {
        let (lo, hi) = (c.saturating_sub(context), (c + context + 1).min(ops.len()));
        match hunks.last_mut() {
            Some(last) if lo <= last.1 => last.1 = hi,
            _ => hunks.push((lo, hi)),
        }
    }
    let mut out = format!("--- {from}\n+++ {to}\n");
    // Line numbers (1-based) of each op's position in a and b.
    let (mut pa, mut pb) = (Vec::with_capacity(ops.len()), Vec::with_capacity(ops.len()));
    let (mut na, mut nb) = (1, 1);
    for (op, _) in &ops {
        pa.push(na);
        pb.push(nb);
        match op {
            Op::Equal => {
                na += 1;
                nb += 1;
            }
            Op::Delete => na += 1,
            Op::Insert => nb += 1,
        }
    }
    for (lo, hi) in hunks {
        let slice = &ops[lo..hi];
        let la = slice.iter().filter(|(o, _)| *o != Op::Insert).count();
        let lb = slice.iter().filter(|(o, _)| *o != Op::Delete).count();
        let _ = writeln!(out, "@@ -{} +{} @@", range(pa[lo], la), range(pb[lo], lb));
        for (op, line) in slice {
            let mark = match op {
                Op::Equal => ' ',
                Op::Delete => '-',
                Op::Insert => '+',
            };
            out.push(mark);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_past_the_line_bound_is_summed_up() {
        let big = "x\n".repeat(MAX_LINES + 1);
        assert_eq!(
            unified("", &big, "/dev/null", "b/x", 3),
            format!("--- /dev/null\n+++ b/x\n@@ -0,0 +1,{} @@ the lines are not shown: kindling shows the diff of files up to {MAX_LINES} lines\n", MAX_LINES + 1)
        );
        assert_eq!(unified(&big, &big, "a/x", "b/x", 3), "");
    }

    #[test]
    fn one_changed_line() {
        assert_eq!(
            unified("a\nb\n", "a\nc\n", "a/x", "b/x", 3),
            "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
        );
    }

    #[test]
    fn new_file_and_missing_final_newline() {
        assert_eq!(
            unified("", "x\ny", "/dev/null", "b/x", 3),
            "--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+x\n+y\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn distant_changes_make_two_hunks_with_context() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .map(|i| match i {
                2 => "two\n".to_string(),
                18 => "eighteen\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let d = unified(&old, &new, "a", "b", 2);
        assert_eq!(
            d,
            "--- a\n+++ b\n@@ -1,4 +1,4 @@\n 1\n-2\n+two\n 3\n 4\n@@ -16,5 +16,5 @@\n 16\n 17\n-18\n+eighteen\n 19\n 20\n"
        );
    }

    #[test]
    fn equal_texts_give_nothing() {
        assert_eq!(unified("a\n", "a\n", "a", "b", 3), "");
    }

    #[test]
    fn insertions_are_aligned() {
        assert_eq!(
            unified("a\nc\n", "a\nb\nc\n", "a", "b", 1),
            "--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"
        );
    }
}
