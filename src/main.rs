//! The kindling binary: all logic lives in the library; this only hands over argv and exits.

fn main() {
    std::process::exit(kindling::cli::run(std::env::args_os().collect()));
}
