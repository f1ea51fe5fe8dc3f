//! Compliance of the freshservice connector against its simulator.
