//! `--from-waagent`: what the Azure Linux agent left on disk: `provisioned` (availability),
//! `CustomData` (user-data) and `SharedConfig.xml` (this instance's addresses).

use std::net::IpAddr;
use std::path::PathBuf;

use crate::datasource::xml;
use crate::datasource::{path_exists, read_file_capped, Datasource, DatasourceError};
use crate::http::{METADATA_CAP, USER_DATA_CAP};
use crate::metadata::Metadata;

#[derive(Debug, Clone)]
pub struct Waagent {
    root: PathBuf,
}

impl Waagent {
    pub fn new(root: impl Into<PathBuf>) -> Waagent {
        Waagent { root: root.into() }
    }
}

/// `host:port` or `[v6]:port` as Go's `net.SplitHostPort` accepts them; the host part only.
fn split_host_port(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        after.strip_prefix(':')?;
        return Some(host);
    }
    let (host, _port) = s.rsplit_once(':')?;
    (!host.contains(':')).then_some(host)
}

/// The addresses of the instance named by `Incarnation@instance`, as the reference reads them.
fn addresses(root: &xml::Element) -> (Option<IpAddr>, Option<IpAddr>) {
    let Some(wanted) = root.child("Incarnation").and_then(|i| i.attr("instance")) else {
        return (None, None);
    };
    let Some(instance) = root
        .children_named("Instances")
        .flat_map(|i| i.children_named("Instance"))
        .find(|i| i.attr("id") == Some(wanted))
    else {
        return (None, None);
    };
    let private = instance.attr("address").and_then(|a| a.trim().parse().ok());
    let public = instance
        .children_named("InputEndpoints")
        .flat_map(|e| e.children_named("Endpoint"))
        .filter_map(|e| e.attr("loadBalancedPublicAddress"))
        .find_map(split_host_port)
        .and_then(|h| h.parse().ok());
    (private, public)
}

impl Datasource for Waagent {
    fn kind(&self) -> &'static str {
        "waagent"
    }

    fn describe(&self) -> String {
        format!("waagent {}", self.root.display())
    }

    fn check_availability(&self) -> Result<(), String> {
        path_exists(&self.root.join("provisioned"))
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        read_file_capped(&self.root.join("CustomData"), USER_DATA_CAP)
    }

    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        let path = self.root.join("SharedConfig.xml");
        // Missing or empty (0 bytes) is no metadata, as in the reference; anything else must
        // be XML.
        let bytes = match read_file_capped(&path, METADATA_CAP)? {
            Some(bytes) if !bytes.is_empty() => bytes,
            _ => return Ok(Metadata::default()),
        };
        let xml_error = |message: String| DatasourceError::Xml {
            location: path.display().to_string(),
            message,
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| xml_error(format!("{e} (expected UTF-8 text)")))?;
        let root = xml::parse(text).map_err(xml_error)?;
        let (private_ipv4, public_ipv4) = addresses(&root);
        Ok(Metadata {
            private_ipv4,
            public_ipv4,
            ..Metadata::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_splits_like_go() {
        assert_eq!(split_host_port("1.2.3.4:22"), Some("1.2.3.4"));
        assert_eq!(split_host_port("[::1]:22"), Some("::1"));
        assert_eq!(split_host_port("1.2.3.4"), None);
        assert_eq!(split_host_port("::1:22"), None);
        assert_eq!(split_host_port("[::1]"), None);
    }
}
