//! SCIM filter text (from a client's `?filter=`): parsing never panics or overflows the stack,
//! and a parsed filter evaluates against any resource without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = idgraph_scim::filter::Filter::parse(text) {
        let resource = serde_json::json!({
            "userName": "a@b.example",
            "emails": [{"type": "work", "value": "a@b.example", "primary": true}],
            "name": {"givenName": "A"},
            "active": true,
            "meta": {"lastModified": "2024-01-01T00:00:00Z"}
        });
        let _ = filter.matches(&resource);
        let _ = filter.to_string();
    }
});
