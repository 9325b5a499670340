//! `--from-ec2-metadata`: the EC2 instance metadata service (also OpenStack's), IMDSv2 first:
//! a session token from the configured base, retried, refreshed once on 401.

use std::net::IpAddr;
use std::sync::Mutex;

use crate::datasource::{Datasource, DatasourceError};
use crate::http::{
    with_trailing_slash, HttpClient, HttpError, HttpOptions, Method, METADATA_CAP, USER_DATA_CAP,
};
use crate::metadata::Metadata;

const TOKEN_TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
const API_VERSION: &str = "2009-04-04";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Session {
    /// Not asked yet, or the last request for a token failed in a way worth retrying.
    Unknown,
    V2(String),
    /// The service refused IMDSv2 (403, 404, 405) or does not speak HTTP to a PUT.
    V1,
}

#[derive(Debug)]
pub struct Ec2 {
    base: String,
    http: HttpClient,
    session: Mutex<Session>,
}

/// What makes a token unusable in the header it goes back in, if anything: a line break would
/// split the request (header injection), other bytes are refused by any HTTP client.
fn token_problem(token: &str) -> Option<String> {
    if token.is_empty() {
        return Some("it is empty".into());
    }
    let (at, c) = token.char_indices().find(|(_, c)| !c.is_ascii_graphic())?;
    Some(match c {
        '\r' | '\n' => format!("it contains a line break (CR or LF) at byte {at}"),
        ' ' | '\t' => format!("it contains whitespace at byte {at}"),
        c if c.is_control() => format!("it contains the control character {c:?} at byte {at}"),
        c => format!("it contains {c:?} at byte {at}, which is not ASCII"),
    })
}

impl Ec2 {
    pub fn new(base: &str, http: &HttpOptions) -> Ec2 {
        Ec2 {
            base: with_trailing_slash(base),
            http: HttpClient::new(http),
            session: Mutex::new(Session::Unknown),
        }
    }

    fn session(&self) -> Session {
        self.session
            .lock()
            .map(|s| s.clone())
            .unwrap_or(Session::Unknown)
    }

    fn set_session(&self, s: Session) {
        if let Ok(mut slot) = self.session.lock() {
            *slot = s;
        }
    }

    /// One PUT for a token. Only a definite "no IMDSv2 here" selects IMDSv1; a timeout or a
    /// 5xx does not, since on a v2-only instance that would turn into 401s for every read.
    fn request_token(&self) -> Result<Session, HttpError> {
        let url = format!("{}latest/api/token", self.base);
        let reply = match self
            .http
            .request(Method::Put, &url, &[(TOKEN_TTL_HEADER, "21600")], 4096)
        {
            Ok(r) => r,
            Err(HttpError::NotHttp { .. }) => {
                log::info!("PUT {url} got no HTTP answer: using IMDSv1");
                return Ok(Session::V1);
            }
            Err(e) => return Err(e),
        };
        match reply.status {
            200..=299 => {
                let token = String::from_utf8_lossy(&reply.body).trim().to_string();
                if let Some(problem) = token_problem(&token) {
                    return Err(HttpError::InvalidToken { url, problem });
                }
                Ok(Session::V2(token))
            }
            403..=405 => {
                log::info!("PUT {url}: HTTP {}: using IMDSv1", reply.status);
                Ok(Session::V1)
            }
            _ => Err(reply.status_error("PUT", &url)),
        }
    }

    fn ensure_session(&self, retry: bool) -> Result<Session, HttpError> {
        let current = self.session();
        if current != Session::Unknown {
            return Ok(current);
        }
        let url = format!("{}latest/api/token", self.base);
        let s = if retry {
            self.http.retrying(&url, || self.request_token())?
        } else {
            self.request_token()?
        };
        self.set_session(s.clone());
        Ok(s)
    }

    /// One GET under the session; a 401 (expired or revoked token) gets one new token and one
    /// more try.
    fn get_once(
        &self,
        url: &str,
        cap: usize,
        retry_token: bool,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        let mut refreshed = false;
        loop {
            let session = self.ensure_session(retry_token)?;
            let headers: Vec<(&str, &str)> = match &session {
                Session::V2(t) => vec![(TOKEN_HEADER, t.as_str())],
                _ => Vec::new(),
            };
            match self.http.get_once(url, &headers, cap) {
                Err(e) if e.status() == Some(401) && !refreshed => {
                    log::info!("{e}: requesting a new IMDSv2 token");
                    self.set_session(Session::Unknown);
                    refreshed = true;
                }
                other => return other,
            }
        }
    }

    fn get(&self, url: &str, cap: usize) -> Result<Option<Vec<u8>>, HttpError> {
        self.http.retrying(url, || self.get_once(url, cap, true))
    }

    fn meta_url(&self, attribute: &str) -> String {
        format!("{}{API_VERSION}/meta-data/{attribute}", self.base)
    }
}

/// Reads the metadata attributes through `get` (attribute -> body, `None` when absent), whose
/// URLs `meta_url` names in messages. Apart from the requests it is pure, so that the fuzz
/// targets run it on arbitrary answers.
pub(crate) struct Attributes<G, U> {
    pub(crate) get: G,
    pub(crate) meta_url: U,
}

impl<G, U> Attributes<G, U>
where
    G: Fn(&str) -> Result<Option<Vec<u8>>, DatasourceError>,
    U: Fn(&str) -> String,
{
    fn lines(&self, attribute: &str) -> Result<Option<Vec<String>>, DatasourceError> {
        let body = (self.get)(attribute)?;
        Ok(body.map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        }))
    }

    fn first_line(&self, attribute: &str) -> Result<Option<String>, DatasourceError> {
        Ok(self
            .lines(attribute)?
            .and_then(|lines| lines.into_iter().next()))
    }

    /// Unparsable addresses are left unset with a warning, as in the reference.
    fn ip(&self, attribute: &str) -> Result<Option<IpAddr>, DatasourceError> {
        Ok(self.first_line(attribute)?.and_then(|s| match s.parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                log::warn!(
                    "{}: {s:?} is not an IP address; ignored",
                    (self.meta_url)(attribute)
                );
                None
            }
        }))
    }

    pub(crate) fn metadata(&self) -> Result<Metadata, DatasourceError> {
        let mut md = Metadata::default();
        for line in self.lines("public-keys")?.unwrap_or_default() {
            let malformed = || {
                DatasourceError::malformed(
                    (self.meta_url)("public-keys"),
                    format!("malformed public key: {line:?}"),
                )
            };
            let (index, name) = line.split_once('=').ok_or_else(malformed)?;
            // The index goes into a URL path: digits only, so a hostile answer cannot redirect
            // the next request elsewhere on the service.
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            match self.first_line(&format!("public-keys/{index}/openssh-key"))? {
                Some(key) => {
                    md.ssh_public_keys.insert(name.to_string(), key);
                }
                None => log::warn!(
                    "{}: key {name:?} has no openssh-key; ignored",
                    (self.meta_url)("public-keys")
                ),
            }
        }
        md.hostname = self.first_line("hostname")?;
        md.private_ipv4 = self.ip("local-ipv4")?;
        md.public_ipv4 = self.ip("public-ipv4")?;
        Ok(md)
    }
}

impl Datasource for Ec2 {
    fn kind(&self) -> &'static str {
        "ec2-metadata-service"
    }

    fn describe(&self) -> String {
        format!("ec2-metadata-service at {}", self.base)
    }

    fn check_availability(&self) -> Result<(), String> {
        let url = format!("{}{API_VERSION}/", self.base);
        match self.get_once(&url, METADATA_CAP, false) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!("GET {url}: not found")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        let url = format!("{}{API_VERSION}/user-data", self.base);
        Ok(self.get(&url, USER_DATA_CAP)?)
    }

    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        Attributes {
            get: |attribute: &str| Ok(self.get(&self.meta_url(attribute), METADATA_CAP)?),
            meta_url: |attribute: &str| self.meta_url(attribute),
        }
        .metadata()
    }
}
