//! Compliance of the freshbooks connector against its simulator.
