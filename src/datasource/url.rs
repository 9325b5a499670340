//! `--from-url`: user-data from one http(s) URL. The operator named the URL, so anything but
//! a 2xx (404 included) is an error rather than "no user-data".

use std::sync::Mutex;

use crate::datasource::{Datasource, DatasourceError};
use crate::http::{HttpClient, HttpOptions, Method, USER_DATA_CAP};

#[derive(Debug)]
pub struct Url {
    url: String,
    http: HttpClient,
    /// The body of the availability check, so a successful check is not downloaded twice.
    checked: Mutex<Option<Vec<u8>>>,
}

impl Url {
    pub fn new(url: &str, http: &HttpOptions) -> Url {
        Url {
            url: url.to_string(),
            http: HttpClient::new(http),
            checked: Mutex::new(None),
        }
    }
}

impl Datasource for Url {
    fn kind(&self) -> &'static str {
        "url"
    }

    fn describe(&self) -> String {
        format!("url {}", self.url)
    }

    fn check_availability(&self) -> Result<(), String> {
        match self.http.get_once(&self.url, &[], USER_DATA_CAP) {
            Ok(Some(body)) => {
                if let Ok(mut slot) = self.checked.lock() {
                    *slot = Some(body);
                }
                Ok(())
            }
            Ok(None) => Err(format!("GET {}: not found", self.url)),
            Err(e) => Err(e.to_string()),
        }
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        if let Some(body) = self.checked.lock().ok().and_then(|mut s| s.take()) {
            return Ok(Some(body));
        }
        fetch_required(&self.http, &self.url).map(Some)
    }
}

/// A retried GET where absence is an error: for URLs an operator gave explicitly.
pub(crate) fn fetch_required(http: &HttpClient, url: &str) -> Result<Vec<u8>, DatasourceError> {
    let body = http.retrying(url, || {
        let reply = http.request(Method::Get, url, &[], USER_DATA_CAP)?;
        if (200..300).contains(&reply.status) {
            Ok(reply.body)
        } else {
            Err(reply.status_error("GET", url))
        }
    })?;
    Ok(body)
}
