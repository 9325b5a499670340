//! Where user-data and metadata come from: one module per source behind one trait, and the
//! race between enabled sources. What a source returns is `crate::metadata`'s; substituting
//! addresses into user-data is `crate::userdata`'s.

pub mod cloudsigma;
pub mod configdrive;
pub mod digitalocean;
pub mod ec2;
mod error;
mod fetch;
pub mod file;
pub mod gce;
pub mod proc_cmdline;
pub mod select;
pub mod url;
pub mod vmware;
pub mod waagent;
mod xml;

pub use crate::http::{HttpClient, HttpError, HttpOptions};
pub use cloudsigma::CloudSigmaOptions;
pub use error::DatasourceError;
pub use fetch::fetch_json;
pub use select::{select, select_from, SelectOptions, Sources};

use std::path::Path;
use std::time::{Duration, Instant};

use crate::metadata::Metadata;

/// One place user-data and metadata can come from. A source only fetches; merging, substitution
/// and applying are the caller's. Implementations never panic on what they read.
pub trait Datasource: Send + Sync {
    /// The reference's type string, e.g. `ec2-metadata-service`.
    fn kind(&self) -> &'static str;

    /// The kind plus where it looks (`ec2-metadata-service at http://169.254.169.254/`), for
    /// progress and error messages.
    fn describe(&self) -> String {
        self.kind().to_string()
    }

    /// `Ok` when the source can be read now; otherwise why not, in words an operator can act on.
    fn check_availability(&self) -> Result<(), String>;

    fn is_available(&self) -> bool {
        self.check_availability().is_ok()
    }

    /// Whether a later check could give another answer. Sources for which it cannot (the kernel
    /// command line, the hypervisor) are checked once.
    fn availability_changes(&self) -> bool {
        true
    }

    /// The user-data, or `None` when the source has none.
    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError>;

    /// What the source says about the machine; empty for sources that carry only user-data.
    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        Ok(Metadata::default())
    }
}

/// Implementors need not be `Debug`; a boxed source prints as what it is and where it looks.
impl std::fmt::Debug for dyn Datasource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Reads a whole file of at most `cap` bytes; `None` when it does not exist. Reading stops at
/// `cap + 1` bytes, so a huge or endless file (a device, a FIFO) cannot exhaust memory.
pub(crate) fn read_file_capped(
    path: &Path,
    cap: usize,
) -> Result<Option<Vec<u8>>, DatasourceError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DatasourceError::io(path, e)),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let initial = size.min((cap as u64).saturating_add(1)) as usize;
    let out = crate::http::read_capped(file, cap, initial).map_err(|e| match e {
        crate::http::ReadError::TooLarge => DatasourceError::FileTooLarge {
            path: path.to_path_buf(),
            cap,
        },
        crate::http::ReadError::Io(e) => DatasourceError::io(path, e),
    })?;
    Ok(Some(out))
}

/// Whether `path` exists in the reference's sense: anything but "not found" counts, so that a
/// permission problem is reported by the fetch instead of looking like an absent source.
pub(crate) fn path_exists(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("{} does not exist", path.display()))
        }
        Err(_) => Ok(()),
    }
}

/// `t + d`, or a century on when a flag asks for a duration no clock can add.
pub(crate) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(t)
}
