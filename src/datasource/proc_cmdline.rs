//! `--from-proc-cmdline`: user-data from the URL in the kernel's `cloud-config-url=` (or
//! `cloud_config_url=`) parameter. The command line cannot change, so it is checked once.

use std::path::PathBuf;

use crate::datasource::{read_file_capped, url, Datasource, DatasourceError};
use crate::http::{HttpClient, HttpOptions};

/// Where the kernel command line is read from unless a test says otherwise.
pub const CMDLINE_PATH: &str = "/proc/cmdline";

#[derive(Debug)]
pub struct ProcCmdline {
    path: PathBuf,
    http: HttpClient,
}

impl ProcCmdline {
    pub fn new(path: impl Into<PathBuf>, http: &HttpOptions) -> ProcCmdline {
        ProcCmdline {
            path: path.into(),
            http: HttpClient::new(http),
        }
    }

    fn url(&self) -> Result<String, DatasourceError> {
        let bytes = read_file_capped(&self.path, 1 << 20)?.unwrap_or_default();
        find_cloud_config_url(&String::from_utf8_lossy(&bytes)).ok_or_else(|| {
            DatasourceError::malformed(
                self.path.display().to_string(),
                "no cloud-config-url=<url> parameter",
            )
        })
    }
}

/// The last `cloud-config-url=` value. Parameters are split on any whitespace (the reference
/// splits on single spaces only), and a key's `_` count as `-` as the kernel's own parser does.
/// A parameter without a value, or with an empty one, is ignored with a log line.
pub fn find_cloud_config_url(cmdline: &str) -> Option<String> {
    let mut found = None;
    for token in cmdline.split_ascii_whitespace() {
        let (key, value) = match token.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (token, None),
        };
        if key.replace('_', "-") != "cloud-config-url" {
            continue;
        }
        match value {
            Some(v) if !v.is_empty() => found = Some(v.to_string()),
            _ => log::info!("Found cloud-config-url in /proc/cmdline with no value, ignoring."),
        }
    }
    found
}

impl Datasource for ProcCmdline {
    fn kind(&self) -> &'static str {
        "proc-cmdline"
    }

    fn describe(&self) -> String {
        format!("proc-cmdline {}", self.path.display())
    }

    fn check_availability(&self) -> Result<(), String> {
        self.url().map(|_| ()).map_err(|e| e.to_string())
    }

    fn availability_changes(&self) -> bool {
        false
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        let url = self.url()?;
        url::fetch_required(&self.http, &url).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_25() {
        let f = find_cloud_config_url;
        assert_eq!(
            f("cloud_config_url=example.com").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            f("cloud-config-url=one.example.com cloud-config-url=two.example.com").as_deref(),
            Some("two.example.com")
        );
        assert_eq!(
            f("cloud-config-url cloud-config-url=example.com").as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn absent_or_empty_values_are_not_urls() {
        assert_eq!(find_cloud_config_url("root=/dev/sda1 ro"), None);
        assert_eq!(find_cloud_config_url("cloud-config-url"), None);
        assert_eq!(find_cloud_config_url("cloud-config-url="), None);
        assert_eq!(find_cloud_config_url(""), None);
        assert_eq!(
            find_cloud_config_url("a\tcloud-config-url=http://x/?a=b\n").as_deref(),
            Some("http://x/?a=b")
        );
        assert_eq!(find_cloud_config_url("xcloud-config-url=http://x/"), None);
    }
}
