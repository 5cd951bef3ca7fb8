//! `catalog`: the server and its admin commands.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc returns freed memory to the system where glibc's allocator keeps it in
/// per-thread arenas: with 19 MiB argon2 buffers, that kept a loaded server's RSS
/// several times above what it uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // With transparent huge pages on ("always" on many distributions), the allocator's
    // arenas are backed in 2 MiB steps per thread: a server idling at 45 MiB showed
    // 75 MiB. Pages here are small and short-lived; the 2% of throughput huge pages buy
    // is not worth 30 MiB a process.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
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
