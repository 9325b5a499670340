//! What is converted: a small model of the Ignition config, written out by ignition.rs and
//! butane.rs.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Id(u32),
    Name(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PasswdUser {
    pub name: String,
    pub password_hash: Option<String>,
    pub ssh_authorized_keys: Vec<String>,
    pub gecos: Option<String>,
    pub home_dir: Option<String>,
    pub no_create_home: bool,
    pub primary_group: Option<String>,
    pub groups: Vec<String>,
    pub no_user_group: bool,
    pub system: bool,
    pub no_log_init: bool,
    pub shell: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: u32,
    pub user: Option<Owner>,
    pub group: Option<Owner>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub path: String,
    pub target: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unit {
    pub name: String,
    pub contents: Option<String>,
    pub enabled: bool,
    pub mask: bool,
    pub dropins: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IgnitionConfig {
    pub users: Vec<PasswdUser>,
    pub files: Vec<File>,
    pub links: Vec<Link>,
    pub units: Vec<Unit>,
}
