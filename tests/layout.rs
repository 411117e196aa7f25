//! The workspace's layout is its data flow: each crate may depend (normally, in tests or in
//! builds) only on the crates listed before it in [`ORDER`], and every member is listed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;

use toml_edit::DocumentMut;

/// The crates bottom to top: folder, package name.
const ORDER: [(&str, &str); 10] = [
    ("sim", "dyad-sim"),
    ("vectors", "dyad-vectors"),
    ("reference", "dyad-reference"),
    ("rlwe", "dyad-rlwe"),
    ("protocols", "dyad-protocols"),
    ("model", "dyad-model"),
    ("distill", "dyad-distill"),
    ("verify", "dyad-verify"),
    ("bench", "dyad-bench"),
    (".", "dyad"),
];

const SECTIONS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

fn manifest(folder: &str) -> DocumentMut {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder).join("Cargo.toml");
    std::fs::read_to_string(&path).unwrap().parse().unwrap()
}

/// Every dependency of `doc` on a crate at or above `level` in [`ORDER`], as `crate -> dep (section)`.
fn upward(doc: &DocumentMut, level: usize) -> Vec<String> {
    let name = doc["package"]["name"].as_str().unwrap_or("?").to_owned();
    let mut found = Vec::new();
    for section in SECTIONS {
        let Some(table) = doc.get(section).and_then(|t| t.as_table_like()) else { continue };
        for (dep, _) in table.iter() {
            if let Some(at) = ORDER.iter().position(|(_, n)| *n == dep)
                && at >= level
            {
                found.push(format!("{name} -> {dep} ({section})"));
            }
        }
    }
    found
}

#[test]
fn no_crate_depends_on_one_above_it() {
    let mut bad = Vec::new();
    for (level, (folder, name)) in ORDER.iter().enumerate() {
        let doc = manifest(folder);
        assert_eq!(doc["package"]["name"].as_str(), Some(*name), "{folder}/Cargo.toml");
        bad.extend(upward(&doc, level));
    }
    assert!(bad.is_empty(), "dependencies against the data flow: {bad:?}");
}

#[test]
fn every_member_has_its_place_in_the_order() {
    let root = manifest(".");
    let members: Vec<&str> =
        root["workspace"]["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    let listed: Vec<&str> = ORDER.iter().map(|(f, _)| *f).filter(|f| *f != ".").collect();
    assert_eq!(members, listed, "workspace members in Cargo.toml against ORDER");
}

#[test]
fn an_upward_dependency_is_caught() {
    let doc: DocumentMut = "[package]\nname = \"dyad-sim\"\n[dev-dependencies]\ndyad-protocols.workspace = true\n\
                            [dependencies]\nrand = \"1\"\n"
        .parse()
        .unwrap();
    assert_eq!(upward(&doc, 0), ["dyad-sim -> dyad-protocols (dev-dependencies)"]);
    assert_eq!(upward(&doc, 4), ["dyad-sim -> dyad-protocols (dev-dependencies)"]);
    assert!(upward(&doc, 5).is_empty());
}

/// A crate's modules, one per file: `blocks::trunc` for `src/blocks/trunc.rs` (and for
/// `src/blocks/trunc/mod.rs`), `` (the root) for `src/lib.rs`.
fn modules(src: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    parts.pop();
                }
                found.push((parts.join("::"), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    found
}

/// The module paths a file's code (not its comments, not its `#[cfg(test)]` tail) names through
/// `crate::`, with `{…}` groups expanded one level.
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect::<String>();
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let head = ident(rest);
        let after = &rest[head.len()..];
        if after.starts_with('{') || (head.is_empty() && rest.starts_with('{')) {
            let group = &after[1..after.find('}').unwrap_or(after.len())];
            for item in group.split(',') {
                paths.push(format!("{head}{}", ident(item.trim())));
            }
        } else {
            paths.push(head);
        }
    }
    paths
}

/// The module graph's cycles: for each module, the first cycle through it found by a depth-first
/// walk. An edge goes to the longest module that is a prefix of a named path; edges to a
/// module's own ancestors (where its parent re-exports it) are left out.
fn module_cycles(mods: &[(String, String)]) -> Vec<String> {
    let names: Vec<&str> = mods.iter().map(|(m, _)| m.as_str()).collect();
    let is_prefix = |m: &str, path: &str| m.is_empty() || path == m || path.starts_with(&format!("{m}::"));
    let edges: Vec<Vec<usize>> = mods
        .iter()
        .map(|(from, text)| {
            let mut to: Vec<usize> = crate_paths(text)
                .iter()
                .filter_map(|p| (0..names.len()).filter(|&i| is_prefix(names[i], p)).max_by_key(|&i| names[i].len()))
                .filter(|&i| !is_prefix(names[i], from))
                .collect();
            to.sort_unstable();
            to.dedup();
            to
        })
        .collect();
    let mut cycles = Vec::new();
    for start in 0..names.len() {
        let mut path = vec![start];
        let mut next = vec![0usize];
        while let Some(&at) = path.last() {
            let i = next.last().copied().unwrap_or(0);
            if let Some(&to) = edges[at].get(i) {
                *next.last_mut().unwrap() += 1;
                if to == start {
                    let chain: Vec<&str> = path.iter().chain([&start]).map(|&m| names[m]).collect();
                    cycles.push(chain.join(" -> "));
                    break;
                }
                if !path.contains(&to) && to > start {
                    path.push(to);
                    next.push(0);
                }
            } else {
                path.pop();
                next.pop();
            }
        }
    }
    cycles
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut bad = Vec::new();
    for (folder, name) in ORDER {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder).join("src");
        bad.extend(module_cycles(&modules(&src)).into_iter().map(|c| format!("{name}: {c}")));
    }
    assert!(bad.is_empty(), "module cycles:\n{}", bad.join("\n"));
}

#[test]
fn a_module_cycle_is_caught_and_a_parent_re_export_is_not_one() {
    let m = |name: &str, text: &str| (name.to_owned(), text.to_owned());
    let mut mods = vec![
        m("", "pub mod a;\npub use a::x::X;"),
        m("a", "pub mod x;\npub mod y;\n"),
        m("a::x", "use crate::a::y::Y;\nuse crate::X;\n// crate::b is only a comment\n"),
        m("a::y", "use crate::{b::B, a::x};"),
        m("b", "fn f() { crate::a::x::g() }\n#[cfg(test)]\nmod tests { use crate::a::y; }"),
    ];
    assert_eq!(module_cycles(&mods), ["a::x -> a::y -> a::x"]);
    mods[3] = m("a::y", "use crate::{b::B};");
    assert_eq!(module_cycles(&mods), ["a::x -> a::y -> b -> a::x"]);
    mods[4] = m("b", "#[cfg(test)]\nmod tests { use crate::a::y; }");
    assert!(module_cycles(&mods).is_empty());
}
