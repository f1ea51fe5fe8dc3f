//! `docs/simulators.md` is a contract: every row of a table whose last column is "test" names at
//! least one test function that exists in the workspace (or says `—` for something not
//! simulated). This test keeps the document and the code from drifting apart.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
            out.push('\n');
        }
    }
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

/// Backticked identifiers (`foo_bar` or `module::foo_bar`), last path segment.
fn names(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
                && (s.contains('_') || s.contains("::"))
        })
        .map(|s| s.rsplit("::").next().unwrap_or(s).to_string())
        .collect()
}

#[test]
fn every_row_of_docs_simulators_names_an_existing_test() {
    let root = workspace_root();
    let doc = std::fs::read_to_string(root.join("docs/simulators.md")).unwrap();
    let mut code = String::new();
    rust_sources(&root.join("crates"), &mut code);

    let mut in_test_table = false;
    let mut rows = 0;
    let mut not_simulated = Vec::new();
    let mut problems = Vec::new();
    let lines: Vec<&str> = doc.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with('|') {
            in_test_table = false;
            continue;
        }
        let next_is_separator = lines
            .get(i + 1)
            .is_some_and(|l| l.starts_with("|---") || l.starts_with("| ---"));
        if next_is_separator {
            in_test_table = cells(line)
                .last()
                .is_some_and(|c| c.to_ascii_lowercase().contains("test"));
            continue;
        }
        if line.starts_with("|---") || line.starts_with("| ---") || !in_test_table {
            continue;
        }
        rows += 1;
        let row = cells(line);
        let last = row.last().cloned().unwrap_or_default();
        if last.starts_with('—') {
            not_simulated.push(format!(
                "line {}: {}",
                i + 1,
                row.first().cloned().unwrap_or_default()
            ));
            continue;
        }
        let found = names(&last);
        if found.is_empty() {
            problems.push(format!("line {}: no test named in `{last}`", i + 1));
        }
        for n in found {
            if !code.contains(&format!("fn {n}(")) && !code.contains(&format!("fn {n}<")) {
                problems.push(format!("line {}: test `{n}` does not exist", i + 1));
            }
        }
    }
    assert!(rows > 250, "expected the five guides' rows, found {rows}");
    assert!(
        problems.is_empty(),
        "docs/simulators.md:\n{}",
        problems.join("\n")
    );
    assert!(
        not_simulated.len() <= 6,
        "rows not simulated grew: {not_simulated:#?}"
    );
}
