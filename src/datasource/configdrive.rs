//! `--from-configdrive`: an OpenStack config drive (`openstack/latest/user_data`,
//! `meta_data.json`, and the Debian `interfaces` file that `network_config` points at).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::datasource::{path_exists, read_file_capped, Datasource, DatasourceError};
use crate::http::{METADATA_CAP, USER_DATA_CAP};
use crate::metadata::{Metadata, NetworkConfig};

#[derive(Debug, Clone)]
pub struct ConfigDrive {
    root: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
struct MetaData {
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    public_keys: Option<BTreeMap<String, String>>,
    #[serde(default)]
    network_config: Option<NetworkConfigRef>,
}

#[derive(Debug, Default, Deserialize)]
struct NetworkConfigRef {
    #[serde(default)]
    content_path: Option<String>,
}

impl ConfigDrive {
    pub fn new(root: impl Into<PathBuf>) -> ConfigDrive {
        ConfigDrive { root: root.into() }
    }

    fn openstack(&self) -> PathBuf {
        self.root.join("openstack")
    }

    /// `content_path` is relative to `openstack/` even when it starts with `/`; a path that
    /// climbs out of the drive is refused rather than read.
    fn content_path(&self, content_path: &str) -> Result<PathBuf, DatasourceError> {
        let mut out = self.openstack();
        for c in Path::new(content_path).components() {
            match c {
                Component::Normal(part) => out.push(part),
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(DatasourceError::malformed(
                        self.meta_data_path().display().to_string(),
                        format!(
                            "network_config.content_path {content_path:?} must stay inside the config drive"
                        ),
                    ))
                }
            }
        }
        Ok(out)
    }

    fn meta_data_path(&self) -> PathBuf {
        self.openstack().join("latest").join("meta_data.json")
    }
}

impl Datasource for ConfigDrive {
    fn kind(&self) -> &'static str {
        "cloud-drive"
    }

    fn describe(&self) -> String {
        format!("cloud-drive {}", self.root.display())
    }

    fn check_availability(&self) -> Result<(), String> {
        path_exists(&self.root)
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        let path = self.openstack().join("latest").join("user_data");
        read_file_capped(&path, USER_DATA_CAP)
    }

    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        let path = self.meta_data_path();
        let bytes = match read_file_capped(&path, METADATA_CAP)? {
            Some(b) if !b.iter().all(u8::is_ascii_whitespace) => b,
            _ => return Ok(Metadata::default()),
        };
        let md: MetaData = serde_json::from_slice(&bytes).map_err(|e| DatasourceError::Json {
            location: path.display().to_string(),
            message: format!(
                "{e} (expected an object with hostname, public_keys and network_config)"
            ),
        })?;
        let network_config = match md.network_config.and_then(|n| n.content_path) {
            Some(p) => {
                read_file_capped(&self.content_path(&p)?, METADATA_CAP)?.map(NetworkConfig::Debian)
            }
            None => None,
        };
        Ok(Metadata {
            hostname: md.hostname.filter(|h| !h.is_empty()),
            ssh_public_keys: md.public_keys.unwrap_or_default(),
            network_config,
            ..Metadata::default()
        })
    }
}
