//! A scripted HTTP/1.1 server on 127.0.0.1: every request is logged, and a handler picks each
//! reply, well-formed or hostile (a hang, a trickle, an endless body, raw bytes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// When its head was read.
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub enum Reply {
    Status(u16, Vec<u8>),
    Redirect(String),
    /// Accept, say nothing for this long, then close.
    Hang(Duration),
    /// Headers promising `len` bytes, then one byte per `every`.
    Trickle {
        len: usize,
        every: Duration,
    },
    /// 200 without a length, then bytes until the client goes away.
    Endless,
    /// Arbitrary bytes, then close.
    Raw(Vec<u8>),
}

pub fn ok(body: &str) -> Reply {
    Reply::Status(200, body.as_bytes().to_vec())
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct Server {
    /// `http://127.0.0.1:PORT/`
    pub base: String,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let server_log = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&server_log);
                std::thread::spawn(move || serve(stream, &*handler, &log));
            }
        });
        Server { base, log }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let req = Request {
        method,
        path,
        headers,
        at: Instant::now(),
    };
    if let Some(n) = req
        .header("content-length")
        .and_then(|n| n.parse::<usize>().ok())
    {
        let mut body = vec![0; n];
        let _ = reader.read_exact(&mut body);
    }
    log.lock().unwrap().push(req.clone());
    let mut out = stream;
    match handler(&req) {
        Reply::Status(status, body) => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&body);
        }
        Reply::Redirect(to) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = out.write_all(head.as_bytes());
        }
        Reply::Hang(d) => std::thread::sleep(d),
        Reply::Trickle { len, every } => {
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
            let _ = out.write_all(head.as_bytes());
            for _ in 0..len {
                if out.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(every);
            }
        }
        Reply::Endless => {
            let _ = out.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b'y'; 64 * 1024];
            while out.write_all(&chunk).is_ok() {}
        }
        Reply::Raw(bytes) => {
            let _ = out.write_all(&bytes);
        }
    }
    let _ = out.flush();
}

/// A port on 127.0.0.1 where nothing listens.
pub fn dead_base() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/")
}
