//! The identity graph store: the [`Store`] trait and its SQLite (default) and PostgreSQL
//! backends, with migrations for both.
