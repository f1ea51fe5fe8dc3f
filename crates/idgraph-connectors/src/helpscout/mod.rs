//! The helpscout connector (read side): see `shared/api-guides/helpscout.txt`.
