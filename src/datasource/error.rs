//! Why a datasource could not be selected or read. Every message names the URL, path or device
//! involved and what was expected there, so it reads well after "failed to fetch metadata: ".

use std::path::PathBuf;

use crate::http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum DatasourceError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is larger than the limit of {cap} bytes")]
    FileTooLarge { path: PathBuf, cap: usize },
    #[error("{location}: invalid JSON: {message}")]
    Json { location: String, message: String },
    #[error("{location}: invalid XML: {message}")]
    Xml { location: String, message: String },
    /// A document that parses but does not say what it should (reference messages kept).
    #[error("{location}: {message}")]
    Malformed { location: String, message: String },
    #[error("{location}: couldn't parse {value:?} as IP address")]
    InvalidIp { location: String, value: String },
    #[error("{device}: {message}")]
    Serial { device: PathBuf, message: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("no datasource flag is set")]
    NoSources,
    #[error("no datasource available {when}: {details}")]
    NoneAvailable { when: String, details: String },
}

impl DatasourceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> DatasourceError {
        DatasourceError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(location: impl Into<String>, message: impl Into<String>) -> Self {
        DatasourceError::Malformed {
            location: location.into(),
            message: message.into(),
        }
    }
}
