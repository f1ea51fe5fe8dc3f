//! The sync engine: fetch → diff → commit per resource, with checkpoints so a killed sync
//! resumes where it stopped, watermarks for incremental syncs, and change events.
