//! The freshdesk connector (read side): see `shared/api-guides/freshdesk.txt`.
