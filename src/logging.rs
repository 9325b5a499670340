//! Where kindling's log goes: the journal (with structured fields such as MESSAGE_ID) when
//! systemd runs it with `$JOURNAL_STREAM`, plain stderr lines otherwise.

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Stderr {
    level: LevelFilter,
}

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let prefix = match record.level() {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            _ => "",
        };
        eprintln!("{prefix}{}", record.args());
    }

    fn flush(&self) {}
}

/// Installs the logger once; `identifier` is the journal's SYSLOG_IDENTIFIER (the name kindling
/// was invoked as, so `journalctl --identifier=coreos-cloudinit` finds the compat runs).
pub fn init(identifier: &str, verbose: bool) {
    let level = if verbose {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    if systemd_journal_logger::connected_to_journal() {
        if let Ok(journal) = systemd_journal_logger::JournalLog::new() {
            if journal
                .with_syslog_identifier(identifier.to_string())
                .install()
                .is_ok()
            {
                log::set_max_level(level);
                return;
            }
        }
    }
    if log::set_boxed_logger(Box::new(Stderr { level })).is_ok() {
        log::set_max_level(level);
    }
}
