//! DbusSystemd against a private dbus-daemon with stand-in systemd1 and hostname1 services that
//! record every call and answer jobs as each test scripts them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kindling::apply::systemd::dbus::DbusSystemd;
use kindling::apply::systemd::{JobResult, Systemd, SystemdError, TransientService};
use kindling::unit::UnitCommand;
use zbus::object_server::SignalEmitter;
use zbus::{connection, interface, Connection, ObjectPath, OwnedObjectPath, OwnedVariant, Variant};

const DBUS_DAEMON: &str = "/usr/bin/dbus-daemon";
const JOB_TIMEOUT: Duration = Duration::from_millis(300);

/// What the stand-ins were asked, in order.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Subscribe,
    Reload,
    EnableUnitFiles {
        units: Vec<String>,
        runtime: bool,
        force: bool,
    },
    Job {
        method: String,
        unit: String,
        mode: String,
    },
    StartTransientUnit {
        name: String,
        mode: String,
        /// (name, signature, value as text)
        properties: Vec<(String, String, String)>,
        aux: usize,
    },
    GetUnitFileState(String),
    GetUnit(String),
    SetStaticHostname(String, bool),
    SetHostname(String, bool),
}

type CallLog = Arc<Mutex<Vec<Call>>>;

/// How the stand-in answers a job for a unit.
#[derive(Debug, Clone)]
enum Outcome {
    /// JobRemoved with this result.
    Result(&'static str),
    /// The job never ends.
    Never,
    /// The call itself fails with NoSuchUnit.
    NoSuchUnit,
}

fn outcome(unit: &str) -> Outcome {
    match unit {
        "bad.service" | "coreos-cloudinit-bad.service" => Outcome::Result("failed"),
        "dep.service" => Outcome::Result("dependency"),
        "hang.service" => Outcome::Never,
        "nope.service" => Outcome::NoSuchUnit,
        _ => Outcome::Result("done"),
    }
}

#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.freedesktop")]
enum Systemd1Error {
    #[zbus(error)]
    ZBus(zbus::Error),
    #[zbus(name = "systemd1.NoSuchUnit")]
    NoSuchUnit(String),
    #[zbus(name = "DBus.Error.FileNotFound")]
    FileNotFound(String),
    #[zbus(name = "DBus.Error.AccessDenied")]
    AccessDenied(String),
}

struct Manager {
    log: CallLog,
    next_job: AtomicU32,
}

impl Manager {
    fn record(&self, call: Call) {
        self.log.lock().unwrap().push(call);
    }

    /// Queues a job and, as systemd can, ends it before the reply to the call that queued it
    /// is even sent: a client that subscribes after the call misses it. A decoy signal for
    /// another job of the same unit comes first, so a client must match on the job path.
    async fn job(
        &self,
        emitter: &SignalEmitter<'_>,
        unit: &str,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        let outcome = outcome(unit);
        if let Outcome::NoSuchUnit = outcome {
            return Err(Systemd1Error::NoSuchUnit(format!("Unit {unit} not found.")));
        }
        let id = self.next_job.fetch_add(1, Ordering::SeqCst);
        let path = OwnedObjectPath::try_from(format!("/org/freedesktop/systemd1/job/{id}"))
            .map_err(Systemd1Error::ZBus)?;
        if let Outcome::Result(result) = outcome {
            let decoy = ObjectPath::try_from("/org/freedesktop/systemd1/job/999999").unwrap();
            let decoy_result = if result == "done" { "failed" } else { "done" };
            Manager::job_removed(emitter, 999_999, decoy, unit, decoy_result)
                .await
                .map_err(Systemd1Error::ZBus)?;
            Manager::job_removed(emitter, id, path.as_ref(), unit, result)
                .await
                .map_err(Systemd1Error::ZBus)?;
        }
        Ok(path)
    }

    async fn unit_job(
        &self,
        method: &str,
        unit: String,
        mode: String,
        emitter: &SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.record(Call::Job {
            method: method.to_string(),
            unit: unit.clone(),
            mode,
        });
        self.job(emitter, &unit).await
    }
}

#[interface(name = "org.freedesktop.systemd1.Manager")]
impl Manager {
    #[zbus(name = "Subscribe")]
    fn subscribe(&self) {
        self.record(Call::Subscribe);
    }

    #[zbus(name = "Reload")]
    fn reload(&self) {
        self.record(Call::Reload);
    }

    #[zbus(name = "EnableUnitFiles")]
    fn enable_unit_files(
        &self,
        units: Vec<String>,
        runtime: bool,
        force: bool,
    ) -> (bool, Vec<(String, String, String)>) {
        self.record(Call::EnableUnitFiles {
            units,
            runtime,
            force,
        });
        (true, Vec::new())
    }

    #[zbus(name = "StartUnit")]
    async fn start_unit(
        &self,
        name: String,
        mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.unit_job("StartUnit", name, mode, &emitter).await
    }

    #[zbus(name = "StopUnit")]
    async fn stop_unit(
        &self,
        name: String,
        mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.unit_job("StopUnit", name, mode, &emitter).await
    }

    #[zbus(name = "RestartUnit")]
    async fn restart_unit(
        &self,
        name: String,
        mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.unit_job("RestartUnit", name, mode, &emitter).await
    }

    #[zbus(name = "ReloadUnit")]
    async fn reload_unit(
        &self,
        name: String,
        mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.unit_job("ReloadUnit", name, mode, &emitter).await
    }

    #[zbus(name = "TryRestartUnit")]
    async fn try_restart_unit(
        &self,
        name: String,
        mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.unit_job("TryRestartUnit", name, mode, &emitter).await
    }

    #[zbus(name = "ReloadOrRestartUnit")]
    async fn reload_or_restart_unit(
        &self,
        name: String,
        mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.unit_job("ReloadOrRestartUnit", name, mode, &emitter)
            .await
    }

    #[zbus(name = "ReloadOrTryRestartUnit")]
    async fn reload_or_try_restart_unit(
        &self,
        name: String,
        mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        self.unit_job("ReloadOrTryRestartUnit", name, mode, &emitter)
            .await
    }

    #[zbus(name = "StartTransientUnit")]
    async fn start_transient_unit(
        &self,
        name: String,
        mode: String,
        properties: Vec<(String, OwnedVariant)>,
        aux: Vec<(String, Vec<(String, OwnedVariant)>)>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, Systemd1Error> {
        let properties = properties
            .into_iter()
            .map(|(key, value)| {
                let value = Variant::from(value);
                (key, value.value_signature().to_string(), value.to_string())
            })
            .collect();
        self.record(Call::StartTransientUnit {
            name: name.clone(),
            mode,
            properties,
            aux: aux.len(),
        });
        self.job(&emitter, &name).await
    }

    #[zbus(name = "GetUnitFileState")]
    fn get_unit_file_state(&self, name: String) -> Result<String, Systemd1Error> {
        self.record(Call::GetUnitFileState(name.clone()));
        match name.as_str() {
            "app.service" => Ok("enabled".to_string()),
            "static.service" => Ok("static".to_string()),
            // Older systemd answers ENOENT as a file-not-found error.
            "gone.service" => Err(Systemd1Error::FileNotFound(
                "No such file or directory".to_string(),
            )),
            "denied.service" => Err(Systemd1Error::AccessDenied("Access denied".to_string())),
            _ => Err(Systemd1Error::NoSuchUnit(format!("Unit {name} not found."))),
        }
    }

    #[zbus(name = "GetUnit")]
    fn get_unit(&self, name: String) -> Result<OwnedObjectPath, Systemd1Error> {
        self.record(Call::GetUnit(name.clone()));
        match name.as_str() {
            "app.service" => Ok(OwnedObjectPath::try_from(APP_UNIT_PATH).unwrap()),
            _ => Err(Systemd1Error::NoSuchUnit(format!(
                "Unit {name} not loaded."
            ))),
        }
    }

    #[zbus(signal, name = "JobRemoved")]
    async fn job_removed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        job: ObjectPath<'_>,
        unit: &str,
        result: &str,
    ) -> zbus::Result<()>;
}

const APP_UNIT_PATH: &str = "/org/freedesktop/systemd1/unit/app_2eservice";

struct Unit {
    active_state: String,
}

#[interface(name = "org.freedesktop.systemd1.Unit")]
impl Unit {
    #[zbus(property, name = "ActiveState")]
    fn active_state(&self) -> String {
        self.active_state.clone()
    }
}

struct Hostname1 {
    log: CallLog,
    static_hostname: Mutex<String>,
}

#[interface(name = "org.freedesktop.hostname1")]
impl Hostname1 {
    #[zbus(name = "SetStaticHostname")]
    fn set_static_hostname(&self, name: String, interactive: bool) {
        self.log
            .lock()
            .unwrap()
            .push(Call::SetStaticHostname(name.clone(), interactive));
        *self.static_hostname.lock().unwrap() = name;
    }

    #[zbus(name = "SetHostname")]
    fn set_hostname(&self, name: String, interactive: bool) {
        self.log
            .lock()
            .unwrap()
            .push(Call::SetHostname(name, interactive));
    }

    #[zbus(property, name = "StaticHostname")]
    fn static_hostname(&self) -> String {
        self.static_hostname.lock().unwrap().clone()
    }
}

/// A private dbus-daemon, killed when dropped.
struct Bus {
    daemon: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Bus {
    fn start() -> Bus {
        assert!(
            Path::new(DBUS_DAEMON).exists(),
            "{DBUS_DAEMON} is needed for these tests: apt-get install dbus-daemon (.ci/run does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        let socket = dir.path().join("bus");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        // Its complaints (it cannot raise the fd limit in a container) only matter when it
        // fails to start.
        let log = dir.path().join("daemon.log");
        let mut daemon = Command::new(DBUS_DAEMON)
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {DBUS_DAEMON}: {e}"));
        // The address is printed once the bus is listening.
        let mut address = String::new();
        let stdout = daemon.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut address).unwrap();
        let address = address.trim().to_string();
        if address.is_empty() {
            let status = daemon.wait();
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("{DBUS_DAEMON} printed no address and exited ({status:?}):\n{log}");
        }
        Bus {
            daemon,
            address,
            _dir: dir,
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// The bus and the stand-ins on it. Fields drop in order: the services leave before the
/// daemon is killed.
struct Fixture {
    _systemd1: Connection,
    _hostname1: Option<Connection>,
    log: CallLog,
    bus: Bus,
}

impl Fixture {
    fn new(with_hostname1: bool) -> Fixture {
        let bus = Bus::start();
        let log = CallLog::default();
        let manager = Manager {
            log: Arc::clone(&log),
            next_job: AtomicU32::new(1),
        };
        let systemd1 = zbus::block_on(
            connection::Builder::address(bus.address.as_str())
                .name("org.freedesktop.systemd1")
                .serve_at("/org/freedesktop/systemd1", manager)
                .serve_at(
                    APP_UNIT_PATH,
                    Unit {
                        active_state: "active".to_string(),
                    },
                )
                .build(),
        )
        .expect("stand-in systemd1");
        let hostname1 = with_hostname1.then(|| {
            let service = Hostname1 {
                log: Arc::clone(&log),
                static_hostname: Mutex::new("localhost".to_string()),
            };
            zbus::block_on(
                connection::Builder::address(bus.address.as_str())
                    .name("org.freedesktop.hostname1")
                    .serve_at("/org/freedesktop/hostname1", service)
                    .build(),
            )
            .expect("stand-in hostname1")
        });
        Fixture {
            _systemd1: systemd1,
            _hostname1: hostname1,
            log,
            bus,
        }
    }

    fn systemd(&self) -> DbusSystemd {
        DbusSystemd::connect_to(&self.bus.address, JOB_TIMEOUT).expect("connect to the test bus")
    }

    fn calls(&self) -> Vec<Call> {
        self.log.lock().unwrap().clone()
    }
}

fn job(method: &str, unit: &str) -> Call {
    Call::Job {
        method: method.to_string(),
        unit: unit.to_string(),
        mode: "replace".to_string(),
    }
}

#[test]
fn enable_passes_the_names_runtime_and_force() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    let units = vec!["a.service".to_string(), "b@x.service".to_string()];
    systemd.enable(&units, false).unwrap();
    systemd.enable(&units[..1], true).unwrap();
    systemd.enable(&[], true).unwrap();
    assert_eq!(
        fixture.calls(),
        [
            Call::EnableUnitFiles {
                units: units.clone(),
                runtime: false,
                force: true
            },
            Call::EnableUnitFiles {
                units: units[..1].to_vec(),
                runtime: true,
                force: true
            },
        ]
    );
}

#[test]
fn reload_calls_reload() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    assert!(systemd.is_live());
    systemd.reload().unwrap();
    assert_eq!(fixture.calls(), [Call::Reload]);
}

#[test]
fn every_unit_command_runs_its_method_in_replace_mode_after_one_subscribe() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    let commands = [
        UnitCommand::Start,
        UnitCommand::Stop,
        UnitCommand::Restart,
        UnitCommand::Reload,
        UnitCommand::TryRestart,
        UnitCommand::ReloadOrRestart,
        UnitCommand::ReloadOrTryRestart,
    ];
    for command in commands {
        // The stand-in ends each job before replying, after a decoy "failed" for another job:
        // Done means the signal was awaited from before the call and matched by job path.
        assert_eq!(
            systemd.run("app.service", command).unwrap(),
            JobResult::Done,
            "{command:?}"
        );
    }
    let mut expected = vec![Call::Subscribe];
    expected.extend(commands.iter().map(|c| job(c.method(), "app.service")));
    assert_eq!(fixture.calls(), expected);
}

#[test]
fn a_failed_job_is_reported_with_its_result() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    assert_eq!(
        systemd.run("bad.service", UnitCommand::Start).unwrap(),
        JobResult::Failed("failed".to_string())
    );
    assert_eq!(
        systemd.run("dep.service", UnitCommand::Restart).unwrap(),
        JobResult::Failed("dependency".to_string())
    );
}

#[test]
fn a_job_that_never_ends_times_out_and_the_connection_goes_on() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    let started = Instant::now();
    let error = systemd.run("hang.service", UnitCommand::Start).unwrap_err();
    let elapsed = started.elapsed();
    match &error {
        SystemdError::Timeout { what, timeout } => {
            assert_eq!(what, "the start job of hang.service");
            assert_eq!(*timeout, JOB_TIMEOUT);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "the start job of hang.service did not finish within 300ms"
    );
    assert!(elapsed >= JOB_TIMEOUT, "gave up after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(
        systemd.run("app.service", UnitCommand::Start).unwrap(),
        JobResult::Done
    );
}

#[test]
fn a_dbus_error_from_the_call_is_a_call_error() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    match systemd.run("nope.service", UnitCommand::Stop).unwrap_err() {
        SystemdError::Call { method, message } => {
            assert_eq!(method, "StopUnit");
            assert_eq!(
                message,
                "org.freedesktop.systemd1.NoSuchUnit: Unit nope.service not found."
            );
        }
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[test]
fn a_transient_service_is_a_oneshot_running_the_program_itself() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    let service = TransientService {
        name: "coreos-cloudinit-42.service".to_string(),
        description: "Unit generated and executed by kindling on behalf of user".to_string(),
        argv: vec![
            "/var/lib/coreos-cloudinit/scripts/42".to_string(),
            "arg one".to_string(),
        ],
    };
    assert_eq!(systemd.run_transient(&service).unwrap(), JobResult::Done);
    let failing = TransientService {
        name: "coreos-cloudinit-bad.service".to_string(),
        ..service.clone()
    };
    assert_eq!(
        systemd.run_transient(&failing).unwrap(),
        JobResult::Failed("failed".to_string())
    );
    let calls = fixture.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[0], Call::Subscribe);
    let Call::StartTransientUnit {
        name,
        mode,
        properties,
        aux,
    } = &calls[1]
    else {
        panic!("expected StartTransientUnit, got {:?}", calls[1]);
    };
    assert_eq!(name, "coreos-cloudinit-42.service");
    assert_eq!(mode, "replace");
    assert_eq!(*aux, 0);
    let properties: Vec<(&str, &str, &str)> = properties
        .iter()
        .map(|(k, s, v)| (k.as_str(), s.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        properties,
        [
            (
                "Description",
                "s",
                "\"Unit generated and executed by kindling on behalf of user\""
            ),
            ("Type", "s", "\"oneshot\""),
            (
                "ExecStart",
                "a(sasb)",
                "[(\"/var/lib/coreos-cloudinit/scripts/42\", \
                 [\"/var/lib/coreos-cloudinit/scripts/42\", \"arg one\"], false)]"
            ),
            ("RemainAfterExit", "b", "false"),
        ]
    );
}

#[test]
fn a_transient_service_without_a_program_is_refused_before_any_call() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    let service = TransientService {
        name: "empty.service".to_string(),
        description: String::new(),
        argv: Vec::new(),
    };
    assert!(matches!(
        systemd.run_transient(&service),
        Err(SystemdError::Call { .. })
    ));
    assert_eq!(fixture.calls(), []);
}

#[test]
fn unit_file_state_maps_unknown_units_to_none() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    assert_eq!(
        systemd.unit_file_state("app.service").unwrap().as_deref(),
        Some("enabled")
    );
    assert_eq!(
        systemd
            .unit_file_state("static.service")
            .unwrap()
            .as_deref(),
        Some("static")
    );
    assert_eq!(systemd.unit_file_state("missing.service").unwrap(), None);
    assert_eq!(systemd.unit_file_state("gone.service").unwrap(), None);
    match systemd.unit_file_state("denied.service").unwrap_err() {
        SystemdError::Call { method, message } => {
            assert_eq!(method, "GetUnitFileState");
            assert_eq!(
                message,
                "org.freedesktop.DBus.Error.AccessDenied: Access denied"
            );
        }
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[test]
fn active_state_reads_the_unit_object_and_maps_unloaded_units_to_none() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    assert_eq!(
        systemd.active_state("app.service").unwrap().as_deref(),
        Some("active")
    );
    assert_eq!(systemd.active_state("missing.service").unwrap(), None);
    assert_eq!(
        fixture.calls(),
        [
            Call::GetUnit("app.service".to_string()),
            Call::GetUnit("missing.service".to_string())
        ]
    );
}

#[test]
fn set_hostname_sets_the_static_then_the_transient_name_through_hostname1() {
    let fixture = Fixture::new(true);
    let systemd = fixture.systemd();
    assert_eq!(
        systemd.static_hostname().unwrap().as_deref(),
        Some("localhost")
    );
    assert!(systemd.set_hostname("node-1").unwrap());
    assert_eq!(
        fixture.calls(),
        [
            Call::SetStaticHostname("node-1".to_string(), false),
            Call::SetHostname("node-1".to_string(), false),
        ]
    );
    assert_eq!(
        systemd.static_hostname().unwrap().as_deref(),
        Some("node-1")
    );
}

#[test]
fn without_hostname1_the_caller_is_told_to_set_the_name_itself() {
    let fixture = Fixture::new(false);
    let systemd = fixture.systemd();
    assert!(!systemd.set_hostname("node-1").unwrap());
    assert_eq!(systemd.static_hostname().unwrap(), None);
    assert_eq!(fixture.calls(), []);
}

#[test]
fn a_bus_that_is_not_there_is_a_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("nobody").display());
    match DbusSystemd::connect_to(&address, JOB_TIMEOUT) {
        Err(SystemdError::Connect(message)) => assert!(!message.is_empty()),
        other => panic!("expected a connect error, got {other:?}"),
    }
    assert!(matches!(
        DbusSystemd::connect_to("not an address", JOB_TIMEOUT),
        Err(SystemdError::Connect(_))
    ));
}

/// Set in the child that the next test starts: the bus address goes into that process's
/// environment, not this one's, which the other tests share.
const CONNECT_CHILD: &str = "KINDLING_TEST_CONNECT_CHILD";

#[test]
fn connect_uses_the_system_bus_address_from_the_environment() {
    if std::env::var_os(CONNECT_CHILD).is_some() {
        let systemd = DbusSystemd::connect(JOB_TIMEOUT).expect("connect through the environment");
        systemd.reload().unwrap();
        return;
    }
    let fixture = Fixture::new(false);
    // This test again, by its name in this binary (its module path without the crate).
    let name = format!(
        "{}::connect_uses_the_system_bus_address_from_the_environment",
        module_path!().split_once("::").unwrap().1
    );
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--test-threads=1", "--quiet"])
        .env(CONNECT_CHILD, "1")
        .env("DBUS_SYSTEM_BUS_ADDRESS", &fixture.bus.address)
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "{}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    // The child reached the stand-in through the variable alone.
    assert_eq!(fixture.calls(), [Call::Reload]);
}

#[test]
fn strings_the_bus_cannot_carry_are_errors_not_panics() {
    let fixture = Fixture::new(true);
    let systemd = fixture.systemd();
    let bad = "a\0b.service";
    assert!(systemd.run(bad, UnitCommand::Start).is_err());
    assert!(systemd.enable(&[bad.to_string()], false).is_err());
    assert!(systemd.unit_file_state(bad).is_err());
    assert!(systemd.active_state(bad).is_err());
    assert!(systemd.set_hostname("node\0").is_err());
    let service = TransientService {
        name: bad.to_string(),
        description: "\0".to_string(),
        argv: vec!["/bin/true\0".to_string()],
    };
    assert!(systemd.run_transient(&service).is_err());
    // The connection survives all of that.
    systemd.reload().unwrap();
}
