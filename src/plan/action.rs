//! The plan's vocabulary: the parts it reads, the actions it orders and the steps it returns.
//! Apply, `plan show`, `plan --json` and convert read these; only the planner makes them.

use std::path::PathBuf;

use crate::config::model::{CloudConfig, User};
use crate::unit::UnitCommand;

/// One part of the user-data, as the apply pipeline read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Config {
        label: String,
        config: Box<CloudConfig>,
    },
    Script {
        label: String,
        content: Vec<u8>,
    },
    /// Ignition or unknown parts: logged, not applied.
    Ignored {
        label: String,
        kind: String,
        /// Why, as the validator would say it (the header rule's message for unknown text).
        reason: String,
    },
}

impl Part {
    pub fn label(&self) -> &str {
        match self {
            Part::Config { label, .. }
            | Part::Script { label, .. }
            | Part::Ignored { label, .. } => label,
        }
    }
}

/// What kind of file a write is, for messages and journal entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    WriteFiles,
    Generated,
    Unit,
    DropIn,
}

/// A part of a half-created user (shadow-utils killed mid-run) that a rerun finishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// shadow-utils' `.lock`/`+` files (and lock temp files) whose process is gone.
    StaleLocks,
    /// The user group `useradd` makes, with the user's gid.
    Group { name: String, gid: u32 },
    /// The user's `/etc/shadow` entry, locked as `useradd --password '*'` writes it.
    Shadow,
    /// The group's `/etc/gshadow` entry, as `groupadd` writes it.
    Gshadow { group: String },
    /// Memberships the group file has and gshadow lacks (`usermod -a -G` writes both).
    GshadowMembers { groups: Vec<String> },
    /// The home directory with the skeleton, owned by the user.
    Home { path: PathBuf, uid: u32, gid: u32 },
}

impl Repair {
    pub fn describe(&self) -> String {
        match self {
            Repair::StaleLocks => "clear stale shadow-utils locks".into(),
            Repair::Group { name, gid } => format!("create its group {name:?} ({gid})"),
            Repair::Shadow => "add its shadow entry".into(),
            Repair::Gshadow { group } => format!("add the gshadow entry of {group:?}"),
            Repair::GshadowMembers { groups } => {
                format!("list it in gshadow for {}", groups.join(","))
            }
            Repair::Home { path, .. } => format!("create its home {}", path.display()),
        }
    }
}

/// The shadow-utils databases, whose `FILE.lock` and `FILE+` a killed tool leaves behind.
pub const SHADOW_DATABASES: [&str; 4] =
    ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow"];

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetHostname {
        name: String,
    },
    CreateUser {
        user: User,
    },
    UpdateUser {
        name: String,
        passwd: Option<String>,
        add_groups: Vec<String>,
        /// What a crash during an earlier `useradd` left undone, in the order it is finished.
        repair: Vec<Repair>,
    },
    /// `~user/.ssh/authorized_keys.d/SET` and the regenerated `authorized_keys`.
    SshKeys {
        user: String,
        set: String,
        keys: Vec<String>,
    },
    /// Deprecated remote key imports (`coreos_ssh_import_*`): fetched at apply time.
    ImportSshKeys {
        user: String,
        set: String,
        url: String,
    },
    WriteFile {
        path: PathBuf,
        content: Vec<u8>,
        mode: u32,
        owner: Option<String>,
        role: FileRole,
    },
    /// Replace the unit's path with a symlink to /dev/null.
    Mask {
        unit: String,
        path: PathBuf,
    },
    /// Runtime unmask: remove an empty file or /dev/null link at the unit's path.
    Unmask {
        unit: String,
        path: PathBuf,
    },
    Enable {
        unit: String,
        runtime: bool,
    },
    DaemonReload,
    RestartNetworkd,
    Command {
        unit: String,
        command: UnitCommand,
        stamp: String,
    },
    Script {
        path: PathBuf,
        content: Vec<u8>,
        service: String,
        stamp: String,
    },
    /// Something the config asks for that cannot be done; fails at apply, with this message.
    Invalid {
        what: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The part this step comes from (`part 2`), None for the global steps.
    pub part: Option<String>,
    pub action: Action,
    /// Whether carrying it out changes the machine.
    pub change: bool,
}

/// The ordered steps. Global steps (hostname, core keys) come first; if one of them fails,
/// apply runs no part (as the reference does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn changes(&self) -> usize {
        self.steps.iter().filter(|s| s.change).count()
    }

    /// Steps that will fail (`!` in the plan): invalid entries, owners and groups that do not
    /// exist.
    pub fn problems(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Invalid { .. }))
            .count()
    }
}

/// Stamps of what ran since boot live here (under the target root).
pub const STAMPS: &str = "/run/kindling/done";
