//! `catalog`: the server and its admin commands.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc returns freed memory to the system where glibc's allocator keeps it in
/// per-thread arenas: with 19 MiB argon2 buffers, that kept a loaded server's RSS
/// several times above what it uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = catalog_web::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", catalog_web::cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
