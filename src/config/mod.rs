//! The cloud-config: YAML with positions, the schema, validation rules and the typed model.
//! The YAML is parsed once; the validator and the typed model both read it through the schema.

pub mod sshkey;
pub mod unitfile;
pub mod values;
