//! The workspace's layout is its data flow: each crate may depend (normally, in tests or in
//! builds) only on the crates listed before it in [`ORDER`], and every member is listed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;

use toml_edit::DocumentMut;

/// The crates bottom to top: folder, package name.
const ORDER: [(&str, &str); 9] = [
    ("sim", "dyad-sim"),
    ("vectors", "dyad-vectors"),
    ("reference", "dyad-reference"),
    ("rlwe", "dyad-rlwe"),
    ("protocols", "dyad-protocols"),
    ("model", "dyad-model"),
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
