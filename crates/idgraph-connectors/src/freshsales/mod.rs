//! The freshsales connector (read side): see `shared/api-guides/freshsales.txt`.
