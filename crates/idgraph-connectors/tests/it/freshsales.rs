//! Compliance of the freshsales connector against its simulator.
