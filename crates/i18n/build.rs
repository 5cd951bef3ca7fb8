//! Every `locales/<language>/<area>.ftl` file is compiled in: adding a language is adding
//! its directory, with no code to change.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let root = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("locales");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut languages: Vec<_> = fs::read_dir(&root)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .collect()
        })
        .unwrap_or_default();
    languages.sort_by_key(std::fs::DirEntry::file_name);
    let mut out = String::from(
        "/// (language, file, contents) of every message file.\npub(crate) static FILES: &[(&str, &str, &str)] = &[\n",
    );
    for language in languages {
        println!("cargo::rerun-if-changed={}", language.path().display());
        let code = language.file_name().to_string_lossy().into_owned();
        let mut files: Vec<_> = fs::read_dir(language.path())
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for file in files {
            println!("cargo::rerun-if-changed={}", file.display());
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    ({code:?}, {name:?}, include_str!({:?})),",
                file.display().to_string()
            );
        }
    }
    out.push_str("];\n");
    let target = Path::new(&env::var("OUT_DIR").unwrap_or_default()).join("files.rs");
    if let Err(e) = fs::write(&target, out) {
        panic!("cannot write {}: {e}", target.display());
    }
}
