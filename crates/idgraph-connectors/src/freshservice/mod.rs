//! The freshservice connector (read side): see `shared/api-guides/freshservice.txt`.
