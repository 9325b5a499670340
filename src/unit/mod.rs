//! systemd's vocabulary, shared by config (checks), plan (decisions) and apply (carrying out):
//! what a unit name is, which units are networkd's, how a unit file's lines read, and the unit
//! commands a cloud-config may ask for. Pure: no I/O, no D-Bus.

pub mod file;
pub mod name;

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
    /// Every command, in the order the schema and its messages list them.
    pub const ALL: [UnitCommand; 7] = [
        UnitCommand::Start,
        UnitCommand::Stop,
        UnitCommand::Restart,
        UnitCommand::Reload,
        UnitCommand::TryRestart,
        UnitCommand::ReloadOrRestart,
        UnitCommand::ReloadOrTryRestart,
    ];

    /// Their names, as a cloud-config spells them: the schema's allowed values.
    pub const NAMES: [&'static str; 7] = {
        let mut names = [""; 7];
        let mut i = 0;
        while i < names.len() {
            names[i] = UnitCommand::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub fn parse(s: &str) -> Option<UnitCommand> {
        UnitCommand::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub const fn as_str(self) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        assert_eq!(
            UnitCommand::NAMES,
            [
                "start",
                "stop",
                "restart",
                "reload",
                "try-restart",
                "reload-or-restart",
                "reload-or-try-restart"
            ]
        );
        for c in UnitCommand::ALL {
            assert_eq!(UnitCommand::parse(c.as_str()), Some(c));
        }
        assert_eq!(UnitCommand::parse("Start"), None);
        assert_eq!(UnitCommand::parse("enable"), None);
    }
}
