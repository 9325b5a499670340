//! The one HTTP client: every network datasource and the SSH key imports use it. Timeouts,
//! bounded retries with backoff, body caps, and the rule that only 404 and 410 mean "absent".
//!
//! TLS is rustls with the platform verifier, so the administrator's trust store decides: on
//! Linux that verifier loads its roots with `rustls-native-certs`, which reads `SSL_CERT_FILE`
//! and `SSL_CERT_DIR` when either is set and the distribution's bundle otherwise. No roots are
//! bundled into the binary.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ureq::tls::{RootCerts, TlsConfig};

/// The most user-data a source may hand over. Larger bodies are an error, not a truncation.
pub const USER_DATA_CAP: usize = 16 << 20;
/// The most any single metadata document or attribute may be.
pub const METADATA_CAP: usize = 1 << 20;

/// How long and how often to try. The defaults are the reference's (10 s per request; 15
/// attempts with sleeps of 100 ms doubling up to 5 s); tests turn them down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// End to end for one request, redirects and reading the body included.
    pub timeout: Duration,
    /// Attempts for a retried request (at least one is always made).
    pub attempts: u32,
    /// Sleep after the first failed attempt; each further sleep doubles.
    pub backoff_start: Duration,
    /// Longest sleep between attempts.
    pub backoff_max: Duration,
    /// When the whole fetch must be over (`--timeout`): no request runs and no pause lasts
    /// past it, whatever the attempts left.
    pub deadline: Option<Instant>,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            timeout: Duration::from_secs(10),
            attempts: 15,
            backoff_start: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            deadline: None,
        }
    }
}

/// Longer per-request timeouts are cut to this, so no flag value can overflow a clock.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Redirects followed before a request fails; a loop ends here instead of running on.
pub const MAX_REDIRECTS: u32 = 5;

/// Why a request did not yield a body. Every message names the method and URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("{url:?} is not a valid http:// or https:// URL")]
    InvalidUrl { url: String },
    #[error("{method} {url}: HTTP status {status}, expected 200 (or 404 when absent)")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        /// The server's `Retry-After` (on 429 and 503), as a delay from when it answered.
        retry_after: Option<Duration>,
    },
    #[error("{method} {url}: the time for the whole fetch (--timeout) ran out")]
    DeadlinePassed { method: &'static str, url: String },
    #[error("{method} {url}: no complete answer within {timeout:?}")]
    Timeout {
        method: &'static str,
        url: String,
        timeout: Duration,
    },
    #[error("{method} {url}: the server did not answer with HTTP: {message}")]
    NotHttp {
        method: &'static str,
        url: String,
        message: String,
    },
    /// The server answered, but with a token that cannot be sent back in a header.
    #[error("PUT {url}: the IMDSv2 token in the answer is invalid: {problem}; a token goes back in a request header, where only visible ASCII is allowed")]
    InvalidToken { url: String, problem: String },
    /// The server's certificate is not one the trust store vouches for (unknown issuer, wrong
    /// name, bad signature): trying again gives the same answer.
    #[error("{method} {url}: the server's certificate is not trusted: {message} (trust comes from the system store, or from SSL_CERT_FILE / SSL_CERT_DIR when set)")]
    Untrusted {
        method: &'static str,
        url: String,
        message: String,
    },
    #[error("{method} {url}: {message}")]
    Transport {
        method: &'static str,
        url: String,
        message: String,
    },
    #[error("{method} {url}: the response body is larger than the limit of {cap} bytes")]
    TooLarge {
        method: &'static str,
        url: String,
        cap: usize,
    },
    #[error("{method} {url}: more than {max} redirects", max = MAX_REDIRECTS)]
    TooManyRedirects { method: &'static str, url: String },
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp { attempts: u32, last: Box<HttpError> },
}

impl HttpError {
    /// The HTTP status the server answered with, if that is why the request failed.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Whether another attempt might succeed: server errors and transport trouble, never a
    /// client error, a bad URL, an oversized body or a redirect loop.
    pub fn is_retryable(&self) -> bool {
        match self {
            // 429 is "too many requests": the same request succeeds later.
            HttpError::Status { status, .. } => *status >= 500 || *status == 429,
            HttpError::Timeout { .. } | HttpError::NotHttp { .. } | HttpError::Transport { .. } => {
                true
            }
            _ => false,
        }
    }
}

/// A response as the server gave it: the body is read only for 2xx statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Retry-After` as a delay, when the server sent one that parses.
    pub retry_after: Option<Duration>,
}

impl Reply {
    /// The error for a status that is neither success nor absence.
    pub fn status_error(&self, method: &'static str, url: &str) -> HttpError {
        HttpError::Status {
            method,
            url: url.to_string(),
            status: self.status,
            retry_after: self.retry_after,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
        }
    }
}

/// A configured agent plus the fixed headers of one source (e.g. GCE's `Metadata-Flavor`).
#[derive(Debug, Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    options: HttpOptions,
    headers: Vec<(String, String)>,
}

impl HttpClient {
    /// A client for metadata services and user-data URLs. These are link-local and the
    /// reference never used a proxy for them; an inherited `http_proxy` would only send
    /// 169.254.169.254 somewhere else.
    pub fn new(options: &HttpOptions) -> HttpClient {
        HttpClient::build(options, None)
    }

    /// A client for hosts on the internet (GitHub's keys API, a key URL): it goes through the
    /// proxy the environment names (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, either case, with
    /// `NO_PROXY`), as the reference's Go client did.
    pub fn for_internet(options: &HttpOptions) -> HttpClient {
        HttpClient::build(options, ureq::Proxy::try_from_env())
    }

    fn build(options: &HttpOptions, proxy: Option<ureq::Proxy>) -> HttpClient {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(MAX_REDIRECTS)
            .max_redirects_will_error(true)
            .proxy(proxy)
            .timeout_global(Some(options.timeout.min(MAX_TIMEOUT)))
            .tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::PlatformVerifier)
                    .unversioned_rustls_crypto_provider(Arc::new(
                        rustls::crypto::ring::default_provider(),
                    ))
                    .build(),
            )
            .user_agent(concat!("kindling/", env!("CARGO_PKG_VERSION")))
            .build();
        HttpClient {
            agent: config.new_agent(),
            options: options.clone(),
            headers: Vec::new(),
        }
    }

    /// Adds a header sent with every request of this client.
    pub fn with_header(mut self, name: &str, value: &str) -> HttpClient {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// One attempt, whatever the status; the body is read (up to `cap`) only for a 2xx.
    pub fn request(
        &self,
        method: Method,
        url: &str,
        extra_headers: &[(&str, &str)],
        cap: usize,
    ) -> Result<Reply, HttpError> {
        check_url(url)?;
        let m = method.as_str();
        let timeout = self.request_timeout(m, url)?;
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra_headers.iter().copied());
        let result = match method {
            Method::Get => {
                let mut req = self
                    .agent
                    .get(url)
                    .config()
                    .timeout_global(Some(timeout))
                    .build();
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                req.call()
            }
            Method::Put => {
                let mut req = self
                    .agent
                    .put(url)
                    .config()
                    .timeout_global(Some(timeout))
                    .build();
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                req.send_empty()
            }
        };
        let response = result.map_err(|e| self.transport_error(m, url, e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            return Ok(Reply {
                status,
                body: Vec::new(),
                retry_after,
            });
        }
        let body = response.into_body();
        if body.content_length().is_some_and(|n| n > cap as u64) {
            return Err(HttpError::TooLarge {
                method: m,
                url: url.to_string(),
                cap,
            });
        }
        let initial = body
            .content_length()
            .unwrap_or(0)
            .min((cap as u64).saturating_add(1)) as usize;
        let reader = body.into_reader();
        let body = read_capped(reader, cap, initial).map_err(|e| match e {
            ReadError::TooLarge => HttpError::TooLarge {
                method: m,
                url: url.to_string(),
                cap,
            },
            ReadError::Io(e) => self.body_error(m, url, e),
        })?;
        Ok(Reply {
            status,
            body,
            retry_after: None,
        })
    }

    /// The time one request may take: its own timeout, cut to what is left of the deadline.
    fn request_timeout(&self, method: &'static str, url: &str) -> Result<Duration, HttpError> {
        let timeout = self.options.timeout.min(MAX_TIMEOUT);
        match self.remaining() {
            None => Ok(timeout),
            Some(left) if left.is_zero() => Err(HttpError::DeadlinePassed {
                method,
                url: url.to_string(),
            }),
            Some(left) => Ok(timeout.min(left)),
        }
    }

    /// Time left before the deadline, if there is one.
    fn remaining(&self) -> Option<Duration> {
        self.options
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// One GET: `Ok(Some(body))` on 2xx, `Ok(None)` on 404 or 410, an error otherwise.
    pub fn get_once(
        &self,
        url: &str,
        extra_headers: &[(&str, &str)],
        cap: usize,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        let reply = self.request(Method::Get, url, extra_headers, cap)?;
        classify("GET", url, reply)
    }

    /// [`HttpClient::get_once`], retried with backoff while the failure is retryable.
    pub fn get(
        &self,
        url: &str,
        extra_headers: &[(&str, &str)],
        cap: usize,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        self.retrying(url, || self.get_once(url, extra_headers, cap))
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts or the deadline run out.
    /// The pauses follow the reference's exponential backoff (`backoff_start`, doubling, capped
    /// at `backoff_max`) with full jitter: a random pause up to that bound, so that a fleet
    /// booting at once spreads its retries instead of arriving together. A server's
    /// `Retry-After` is honoured (never retried sooner), capped by the deadline.
    pub fn retrying<T>(
        &self,
        url: &str,
        mut attempt: impl FnMut() -> Result<T, HttpError>,
    ) -> Result<T, HttpError> {
        let attempts = self.options.attempts.max(1);
        let mut bound = self.options.backoff_start;
        let mut n = 1;
        loop {
            log::debug!("Fetching data from {url}. Attempt #{n}");
            match attempt() {
                Ok(v) => return Ok(v),
                Err(e) if !e.is_retryable() => return Err(e),
                Err(e) if n >= attempts || self.remaining().is_some_and(|l| l.is_zero()) => {
                    return Err(if attempts == 1 {
                        e
                    } else {
                        HttpError::GaveUp {
                            attempts,
                            last: Box::new(e),
                        }
                    })
                }
                Err(e) => {
                    let jittered = bound.mul_f64(fastrand::f64());
                    let mut sleep = match &e {
                        HttpError::Status {
                            retry_after: Some(after),
                            ..
                        } => jittered.max(*after),
                        _ => jittered,
                    };
                    if let Some(left) = self.remaining() {
                        sleep = sleep.min(left);
                    }
                    log::info!("{e}; trying again in {sleep:.1?}");
                    std::thread::sleep(sleep);
                    bound = bound.saturating_mul(2).min(self.options.backoff_max);
                    n += 1;
                }
            }
        }
    }

    fn transport_error(&self, method: &'static str, url: &str, e: ureq::Error) -> HttpError {
        let url = url.to_string();
        if let Some(message) = untrusted_certificate(&e) {
            return HttpError::Untrusted {
                method,
                url,
                message,
            };
        }
        match e {
            ureq::Error::Timeout(_) => HttpError::Timeout {
                method,
                url,
                timeout: self.options.timeout,
            },
            ureq::Error::TooManyRedirects => HttpError::TooManyRedirects { method, url },
            ureq::Error::BadUri(_) => HttpError::InvalidUrl { url },
            ureq::Error::Protocol(e) => HttpError::NotHttp {
                method,
                url,
                message: e.to_string(),
            },
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => HttpError::Timeout {
                method,
                url,
                timeout: self.options.timeout,
            },
            other => HttpError::Transport {
                method,
                url,
                message: other.to_string(),
            },
        }
    }

    fn body_error(&self, method: &'static str, url: &str, e: std::io::Error) -> HttpError {
        let inner = e
            .get_ref()
            .and_then(|i| i.downcast_ref::<ureq::Error>())
            .map(|u| matches!(u, ureq::Error::Timeout(_)));
        if e.kind() == std::io::ErrorKind::TimedOut || inner == Some(true) {
            return HttpError::Timeout {
                method,
                url: url.to_string(),
                timeout: self.options.timeout,
            };
        }
        HttpError::Transport {
            method,
            url: url.to_string(),
            message: format!("reading the response body: {e}"),
        }
    }
}

fn classify(method: &'static str, url: &str, reply: Reply) -> Result<Option<Vec<u8>>, HttpError> {
    match reply.status {
        200..=299 => Ok(Some(reply.body)),
        404 | 410 => Ok(None),
        _ => Err(reply.status_error(method, url)),
    }
}

/// `Retry-After` (RFC 9110 §10.2.3) as a delay: delta-seconds, or an HTTP-date (IMF-fixdate)
/// taken relative to `now`. A date in the past is no delay; anything else is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Bounded: a huge value must not overflow, and the deadline caps it anyway.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX).min(1 << 32),
        ));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`, the one date form senders must use.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let rest = value.split_once(", ")?.1;
    let mut it = rest.split(' ');
    let day: u64 = it.next()?.parse().ok()?;
    let month = it.next()?;
    let year: i64 = it.next()?.parse().ok()?;
    let time = it.next()?;
    if it.next()? != "GMT" || it.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// The verifier's reason when `e` is a certificate no trust anchor vouches for. A certificate
/// outside its validity period is not one: early in boot the clock may not be set yet, and
/// the next attempt, after it is, succeeds.
fn untrusted_certificate(e: &ureq::Error) -> Option<String> {
    let tls = match e {
        ureq::Error::Rustls(tls) => tls,
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>()?,
        _ => return None,
    };
    use rustls::CertificateError as C;
    match tls {
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => None,
        rustls::Error::InvalidCertificate(_) => Some(tls.to_string()),
        _ => None,
    }
}

/// Only absolute http(s) URLs with a host; the scheme check is case-insensitive as URLs are.
pub fn check_url(url: &str) -> Result<(), HttpError> {
    let invalid = || HttpError::InvalidUrl {
        url: url.to_string(),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(invalid());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    Ok(())
}

/// `base` with a `/` appended when missing, as the reference does for metadata roots.
pub fn with_trailing_slash(base: &str) -> String {
    if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    }
}

pub(crate) enum ReadError {
    TooLarge,
    Io(std::io::Error),
}

/// Reads at most `cap` bytes and fails on the byte after: memory use is bounded by `cap + 1`
/// whatever the peer sends, since the buffer grows by hand rather than by doubling.
///
/// Reads go straight into the buffer: a separate chunk would be zeroed at every call, which
/// for a small config file costs more than all the rest of reading it. With `initial` at the
/// expected size, one read fills the buffer and a second one, into the spare byte, sees the end.
pub(crate) fn read_capped(
    reader: impl Read,
    cap: usize,
    initial: usize,
) -> Result<Vec<u8>, ReadError> {
    let limit = cap.saturating_add(1);
    let mut reader = reader.take(limit as u64);
    let mut out: Vec<u8> = Vec::new();
    let mut filled = 0;
    loop {
        if filled == out.len() {
            let want = if out.is_empty() && initial > 0 {
                initial.saturating_add(1)
            } else {
                out.len().saturating_mul(2).max(out.len() + 16 * 1024)
            }
            .min(limit);
            out.reserve_exact(want - out.len());
            out.resize(want, 0);
        }
        let n = match reader.read(out.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        filled += n;
        if filled > cap {
            return Err(ReadError::TooLarge);
        }
    }
    out.truncate(filled);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(check_url("http://169.254.169.254/").is_ok());
        assert!(check_url("HTTPS://example.com").is_ok());
        for bad in [
            "",
            "ftp://x/",
            "file:///etc/passwd",
            "example.com",
            "http://",
            "http:///path",
            "http://a b/",
            "httpx://a/",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn read_capped_never_holds_more_than_cap_plus_one() {
        let data = vec![7u8; 100_000];
        let err = read_capped(&data[..], 50_000, 0);
        assert!(matches!(err, Err(ReadError::TooLarge)));
        let ok = read_capped(&data[..], 100_000, 0).ok().unwrap_or_default();
        assert_eq!(ok.len(), 100_000);
        assert!(ok.capacity() <= 100_001);
    }

    #[test]
    fn only_server_and_transport_failures_are_retried() {
        let status = |status| HttpError::Status {
            method: "GET",
            url: "u".into(),
            status,
            retry_after: None,
        };
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(403).is_retryable());
        assert!(!status(401).is_retryable());
        assert!(!HttpError::InvalidUrl { url: "x".into() }.is_retryable());
    }

    #[test]
    fn trailing_slash_is_added_once() {
        assert_eq!(with_trailing_slash("http://a"), "http://a/");
        assert_eq!(with_trailing_slash("http://a/"), "http://a/");
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 06 Nov 1994 08:49:37
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", SystemTime::UNIX_EPOCH),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(
                "Tue, 29 Feb 2000 00:00:05 GMT",
                SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)
            ),
            Some(Duration::from_secs(5))
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
        assert!(parse_retry_after("99999999999999999999999", now).is_some());
    }
}
