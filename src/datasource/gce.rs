//! `--from-gce-metadata`: the Google Compute Engine metadata server. Every request carries
//! `Metadata-Flavor: Google`, which the server requires.

use std::net::IpAddr;

use crate::datasource::{Datasource, DatasourceError};
use crate::http::{with_trailing_slash, HttpClient, HttpOptions, METADATA_CAP, USER_DATA_CAP};
use crate::metadata::Metadata;

#[derive(Debug)]
pub struct Gce {
    base: String,
    http: HttpClient,
}

impl Gce {
    pub fn new(base: &str, http: &HttpOptions) -> Gce {
        Gce {
            base: with_trailing_slash(base),
            http: HttpClient::new(http).with_header("Metadata-Flavor", "Google"),
        }
    }

    fn instance_url(&self, attribute: &str) -> String {
        format!("{}computeMetadata/v1/instance/{attribute}", self.base)
    }
}

/// Reads the instance attributes through `get` (attribute -> body, `None` when absent), whose
/// URLs `url` names in messages; pure apart from the requests, so fuzz targets can run it.
pub(crate) struct Attributes<G, U> {
    pub(crate) get: G,
    pub(crate) url: U,
}

impl<G, U> Attributes<G, U>
where
    G: Fn(&str) -> Result<Option<Vec<u8>>, DatasourceError>,
    U: Fn(&str) -> String,
{
    fn attribute(&self, attribute: &str) -> Result<Option<String>, DatasourceError> {
        let body = (self.get)(attribute)?;
        Ok(body
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .filter(|s| !s.is_empty()))
    }

    /// Unlike EC2, a value that is not an address is an error here, as in the reference.
    fn ip(&self, attribute: &str) -> Result<Option<IpAddr>, DatasourceError> {
        match self.attribute(attribute)? {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| DatasourceError::InvalidIp {
                location: (self.url)(attribute),
                value: s,
            }),
        }
    }

    pub(crate) fn metadata(&self) -> Result<Metadata, DatasourceError> {
        Ok(Metadata {
            hostname: self.attribute("hostname")?,
            private_ipv4: self.ip("network-interfaces/0/ip")?,
            public_ipv4: self.ip("network-interfaces/0/access-configs/0/external-ip")?,
            ..Metadata::default()
        })
    }
}

impl Datasource for Gce {
    fn kind(&self) -> &'static str {
        "gce-metadata-service"
    }

    fn describe(&self) -> String {
        format!("gce-metadata-service at {}", self.base)
    }

    fn check_availability(&self) -> Result<(), String> {
        let url = format!("{}computeMetadata/v1/", self.base);
        match self.http.get_once(&url, &[], METADATA_CAP) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!("GET {url}: not found")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        let url = self.instance_url("attributes/user-data");
        Ok(self.http.get(&url, &[], USER_DATA_CAP)?)
    }

    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        Attributes {
            get: |attribute: &str| {
                Ok(self
                    .http
                    .get(&self.instance_url(attribute), &[], METADATA_CAP)?)
            },
            url: |attribute: &str| self.instance_url(attribute),
        }
        .metadata()
    }
}
