//! `--from-digitalocean-metadata`: DigitalOcean's metadata service, one JSON document
//! (`metadata/v1.json`) plus the user-data.

use std::net::IpAddr;

use serde::Deserialize;

use crate::datasource::{Datasource, DatasourceError};
use crate::http::{with_trailing_slash, HttpClient, HttpOptions, METADATA_CAP, USER_DATA_CAP};
use crate::metadata::{Metadata, NetworkConfig};

#[derive(Debug)]
pub struct DigitalOcean {
    base: String,
    http: HttpClient,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Document {
    hostname: Option<String>,
    public_keys: Option<Vec<String>>,
    interfaces: Option<Interfaces>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Interfaces {
    public: Option<Vec<Interface>>,
    private: Option<Vec<Interface>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Interface {
    ipv4: Option<Address>,
    ipv6: Option<Address>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Address {
    ip_address: Option<String>,
}

impl DigitalOcean {
    pub fn new(base: &str, http: &HttpOptions) -> DigitalOcean {
        DigitalOcean {
            base: with_trailing_slash(base),
            http: HttpClient::new(http),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}metadata/v1{path}", self.base)
    }
}

/// The first interface's address of one family; as in the reference, one that does not parse
/// is left unset (with a warning).
fn first_ip(
    list: Option<&Vec<Interface>>,
    pick: impl Fn(&Interface) -> Option<&Address>,
    location: &str,
) -> Option<IpAddr> {
    let text = list?.first().and_then(pick)?.ip_address.as_deref()?;
    if text.is_empty() {
        return None;
    }
    match text.parse() {
        Ok(ip) => Some(ip),
        Err(_) => {
            log::warn!("{location}: {text:?} is not an IP address; ignored");
            None
        }
    }
}

impl Datasource for DigitalOcean {
    fn kind(&self) -> &'static str {
        "digitalocean-metadata-service"
    }

    fn describe(&self) -> String {
        format!("digitalocean-metadata-service at {}", self.base)
    }

    fn check_availability(&self) -> Result<(), String> {
        let url = self.url("");
        match self.http.get_once(&url, &[], METADATA_CAP) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!("GET {url}: not found")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        Ok(self.http.get(&self.url("/user-data"), &[], USER_DATA_CAP)?)
    }

    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        let url = self.url(".json");
        let Some(body) = self.http.get(&url, &[], METADATA_CAP)? else {
            return Ok(Metadata::default());
        };
        metadata_from_json(&body, &url)
    }
}

/// `metadata/v1.json` (fetched from `url`) as metadata; pure, so fuzz targets can run it.
pub(crate) fn metadata_from_json(body: &[u8], url: &str) -> Result<Metadata, DatasourceError> {
    let doc: Document = serde_json::from_slice(body).map_err(|e| DatasourceError::Json {
        location: url.to_string(),
        message: format!("{e} (expected the metadata/v1.json object)"),
    })?;
    let (public, private) = match &doc.interfaces {
        Some(i) => (i.public.as_ref(), i.private.as_ref()),
        None => (None, None),
    };
    Ok(Metadata {
        hostname: doc.hostname.filter(|h| !h.is_empty()),
        public_ipv4: first_ip(public, |i| i.ipv4.as_ref(), url),
        public_ipv6: first_ip(public, |i| i.ipv6.as_ref(), url),
        private_ipv4: first_ip(private, |i| i.ipv4.as_ref(), url),
        private_ipv6: first_ip(private, |i| i.ipv6.as_ref(), url),
        ssh_public_keys: doc
            .public_keys
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, k)| (i.to_string(), k))
            .collect(),
        network_config: Some(NetworkConfig::Other(
            String::from_utf8_lossy(body).into_owned(),
        )),
    })
}
