//! Compliance of the freshdesk connector against its simulator.
