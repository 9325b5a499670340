//! `--from-file`: user-data from a local file, checked once. It carries no metadata.

use std::path::PathBuf;

use crate::datasource::{path_exists, read_file_capped, Datasource, DatasourceError};
use crate::http::USER_DATA_CAP;

#[derive(Debug, Clone)]
pub struct LocalFile {
    path: PathBuf,
}

impl LocalFile {
    pub fn new(path: impl Into<PathBuf>) -> LocalFile {
        LocalFile { path: path.into() }
    }
}

impl Datasource for LocalFile {
    fn kind(&self) -> &'static str {
        "local-file"
    }

    fn describe(&self) -> String {
        format!("local-file {}", self.path.display())
    }

    fn check_availability(&self) -> Result<(), String> {
        path_exists(&self.path)
    }

    /// The reference polls a missing file for five minutes, but nothing at boot creates the
    /// file an operator names (the units it ships skip an empty or absent one), so waiting only
    /// hides a typo.
    fn availability_changes(&self) -> bool {
        false
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        // The file was there when selected; gone now is an error, not "no user-data".
        match read_file_capped(&self.path, USER_DATA_CAP)? {
            Some(data) => Ok(Some(data)),
            None => Err(DatasourceError::io(
                &self.path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )),
        }
    }
}
