//! A lease's service for the tests: an HTTP/1.1 server on 127.0.0.1:<port> (its one
//! argument) that answers `GET /health` with `ok` and every other request with what it
//! received: the request line, the headers (sorted, lowercase) and the body.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    thread,
};

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: lease-echo <port>");
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    println!("serving on 127.0.0.1:{port}");
    for stream in listener.incoming().flatten() {
        thread::spawn(move || {
            // A client that breaks off is its own problem.
            let _ = answer(stream);
        });
    }
}

fn answer(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "content-length" {
                length = value.trim().parse().unwrap_or(0);
            }
            headers.push(format!("{name}: {}", value.trim()));
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    headers.sort();
    let request_line = request_line.trim_end();
    let reply = if request_line.starts_with("GET /health ") {
        b"ok".to_vec()
    } else {
        let mut reply = format!("{request_line}\n{}\n\n", headers.join("\n")).into_bytes();
        reply.extend_from_slice(&body);
        reply
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reply.len()
    )?;
    stream.write_all(&reply)?;
    stream.flush()
}
