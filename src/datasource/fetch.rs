//! `kindling fetch`: what a datasource yields, as one JSON document for people and scripts.
//! Absent values are `null`; user-data is shown as text (invalid UTF-8 replaced).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::datasource::{Datasource, DatasourceError};

#[derive(Serialize)]
struct Fetched<'a> {
    source: &'a str,
    user_data: Option<String>,
    metadata: MetadataJson,
}

/// Field order is the output order.
#[derive(Serialize)]
struct MetadataJson {
    hostname: Option<String>,
    public_ipv4: Option<String>,
    private_ipv4: Option<String>,
    public_ipv6: Option<String>,
    private_ipv6: Option<String>,
    ssh_public_keys: BTreeMap<String, String>,
}

/// Fetches metadata, then user-data (the reference's order), and renders both.
pub fn fetch_json(source: &dyn Datasource) -> Result<String, DatasourceError> {
    let md = source.fetch_metadata()?;
    let user_data = source
        .fetch_user_data()?
        .map(|d| String::from_utf8_lossy(&d).into_owned());
    let ip = |ip: Option<std::net::IpAddr>| ip.map(|i| i.to_string());
    let doc = Fetched {
        source: source.kind(),
        user_data,
        metadata: MetadataJson {
            hostname: md.hostname,
            public_ipv4: ip(md.public_ipv4),
            private_ipv4: ip(md.private_ipv4),
            public_ipv6: ip(md.public_ipv6),
            private_ipv6: ip(md.private_ipv6),
            ssh_public_keys: md.ssh_public_keys,
        },
    };
    serde_json::to_string_pretty(&doc).map_err(|e| DatasourceError::Json {
        location: source.describe(),
        message: e.to_string(),
    })
}
