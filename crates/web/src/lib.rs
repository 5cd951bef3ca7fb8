//! The catalog web service and its command line: axum handlers, configuration, and the
//! composition root that wires the storage, mail and crypto adapters into the domain's
//! services. Everything else in the workspace is reachable from here; nothing else
//! reaches in.

pub mod adapters;
pub mod api;
pub mod app;
pub mod cli;
pub mod credentials;
pub mod device;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod html;
pub mod i18n;
pub mod jobs;
pub mod names;
pub mod rate_limit;
pub mod session;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod view;

/// The modules of this crate depend on each other one way only: a module that imports
/// another is never imported by it, directly or through others, and no module
/// glob-imports its parent. Read from the sources, so a new import that closes a circle
/// fails here rather than in a reader's head.
#[cfg(test)]
mod module_graph {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    fn sources(dir: &Path, found: &mut Vec<(String, String)>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                sources(&path, found)?;
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push((path.display().to_string(), std::fs::read_to_string(&path)?));
            }
        }
        Ok(())
    }

    /// The top-level module a source file belongs to.
    fn module_of(root: &Path, file: &str) -> String {
        let relative = Path::new(file)
            .strip_prefix(root)
            .unwrap_or(Path::new(file));
        let first = relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        first.trim_end_matches(".rs").to_owned()
    }

    #[test]
    fn the_modules_form_a_dag_and_nothing_glob_imports_its_parent() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        assert!(
            sources(&root, &mut files).is_ok(),
            "the sources are readable"
        );
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (file, text) in &files {
            let from = module_of(&root, file);
            // Unit tests (a `tests.rs`, or a `mod tests` inside a file) may.
            let test_file = file.ends_with("/tests.rs");
            assert!(
                test_file || !text.contains("use super::*;\n") || text.contains("mod tests"),
                "{file} glob-imports its parent"
            );
            // Spelt in two, so that this file does not find itself.
            let allowed = concat!("clippy::wildcard", "_imports");
            assert!(!text.contains(allowed), "{file} allows glob imports");
            for (at, _) in text.match_indices("crate::") {
                let name: String = text[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let doc_link = text[..at].ends_with("[`");
                if !doc_link && name != from && !name.is_empty() {
                    edges.entry(from.clone()).or_default().insert(name);
                }
            }
        }
        // Depth-first search for a path back to where it started.
        fn reaches(
            edges: &BTreeMap<String, BTreeSet<String>>,
            from: &str,
            to: &str,
            seen: &mut BTreeSet<String>,
        ) -> bool {
            edges.get(from).is_some_and(|next| {
                next.iter()
                    .any(|n| n == to || (seen.insert(n.clone()) && reaches(edges, n, to, seen)))
            })
        }
        for module in edges.keys() {
            assert!(
                !reaches(&edges, module, module, &mut BTreeSet::new()),
                "{module} imports something that imports it back: {edges:?}"
            );
        }
        assert!(edges.contains_key("app"), "the graph was read: {edges:?}");
    }
}
