//! systemd's vocabulary, shared by config (checks), plan (decisions) and apply (carrying out):
//! names and words that mean the same in all three. Pure: no I/O, no D-Bus.

/// The unit commands a cloud-config can ask for (`coreos.units[].command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitCommand {
    Start,
    Stop,
    Restart,
    Reload,
    TryRestart,
    ReloadOrRestart,
    ReloadOrTryRestart,
}

impl UnitCommand {
    pub fn parse(s: &str) -> Option<UnitCommand> {
        Some(match s {
            "start" => UnitCommand::Start,
            "stop" => UnitCommand::Stop,
            "restart" => UnitCommand::Restart,
            "reload" => UnitCommand::Reload,
            "try-restart" => UnitCommand::TryRestart,
            "reload-or-restart" => UnitCommand::ReloadOrRestart,
            "reload-or-try-restart" => UnitCommand::ReloadOrTryRestart,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UnitCommand::Start => "start",
            UnitCommand::Stop => "stop",
            UnitCommand::Restart => "restart",
            UnitCommand::Reload => "reload",
            UnitCommand::TryRestart => "try-restart",
            UnitCommand::ReloadOrRestart => "reload-or-restart",
            UnitCommand::ReloadOrTryRestart => "reload-or-try-restart",
        }
    }

    /// The systemd1 Manager method that carries it out.
    pub fn method(self) -> &'static str {
        match self {
            UnitCommand::Start => "StartUnit",
            UnitCommand::Stop => "StopUnit",
            UnitCommand::Restart => "RestartUnit",
            UnitCommand::Reload => "ReloadUnit",
            UnitCommand::TryRestart => "TryRestartUnit",
            UnitCommand::ReloadOrRestart => "ReloadOrRestartUnit",
            UnitCommand::ReloadOrTryRestart => "ReloadOrTryRestartUnit",
        }
    }
}
