//! Compliance of the helpscout connector against its simulator.
