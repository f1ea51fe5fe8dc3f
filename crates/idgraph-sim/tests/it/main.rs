//! Integration tests of the simulators over real sockets: `serve::start` on 127.0.0.1 ports,
//! HTTP and HTTPS. One test binary for the crate (add modules here, not files in `tests/`).

mod serve;
