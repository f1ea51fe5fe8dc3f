//! The freshbooks connector (read side): see `shared/api-guides/freshbooks.txt`.
